import type { Catalog } from '../catalog/catalog.js';
import { safeName } from '../directory/names.js';
import { CODES, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Account, Fleet, Policy, Setting, User } from '../fleet/model.js';
import { groupOf, policyFor, renderPolicy } from '../fleet/users.js';
import type { PlistDict, PlistValue } from '../plist/value.js';
import { writeBinaryPlist } from '../plist/write-binary.js';
import { writeXmlPlist } from '../plist/write-xml.js';
import { accountPayload, passwordKey } from './accounts.js';
import { sha256, uuidV5 } from './identity.js';

export type ArtifactKind = 'plist' | 'profile' | 'certificate' | 'install-point' | 'archive' | 'network' | 'dns' | 'script' | 'document';

export interface ManifestEntry {
  path: string;
  kind: ArtifactKind;
  sha256: string;
  domain?: string;
  group?: string;
  user?: string;
  identifier?: string;
  uuid?: string;
  signed?: boolean;
  /** The file holds a password in clear text (a profile is signed, not encrypted). */
  containsSecret?: boolean;
}

export interface Artifact {
  /** Relative to the output folder, with '/' separators. */
  path: string;
  bytes: Buffer;
  entry: ManifestEntry;
  /** Every PayloadIdentifier and PayloadUUID inside, which must be unique across the whole output. */
  identities?: string[];
}

export interface BuildPlan {
  artifacts: Artifact[];
  manifest: Buffer;
  diagnostics: Diagnostic[];
}

export interface BuildInput {
  fleet: Fleet;
  catalog: Catalog;
  fleetBytes: Uint8Array;
  /** The directory's users, when fleet.yaml has a directory. */
  users?: readonly User[];
  /** Resolved passwords by account index; resolving them is the caller's I/O. */
  secrets?: ReadonlyMap<number, string>;
  plistFormat: 'xml' | 'binary';
  version: string;
}

interface Target {
  label: string;
  who: string;
  group?: string;
  user?: User;
  path: string;
  identifier: string;
  scope: 'System' | 'User';
  policy: Policy;
  accounts: readonly Account[];
}

const MCX_EPOCH_MS = Date.UTC(2001, 0, 1);

/** Everything a build writes, as bytes, from the validated fleet. Pure: no file system, no clock. */
export function planBuild(input: BuildInput): BuildPlan {
  const { fleet, catalog } = input;
  const root = fleet.organization.identifier;
  const artifacts: Artifact[] = [];

  // Group targets carry no per-user values: a template cannot be rendered for a whole group.
  const shared: { label: string; who: string; group?: string; dir: string; identifier: string; policy: Policy }[] = [
    { label: 'base policy', who: 'Macs outside every group', dir: 'base', identifier: `${root}.preferences`, policy: fleet.base },
    ...fleet.groups.map((g) => ({
      label: `group ${g.name}`,
      who: `the ${g.name} group${g.description ? ` (${g.description})` : ''}`,
      group: g.name,
      dir: `groups/${g.slug}`,
      identifier: `${root}.preferences.group.${g.slug}`,
      policy: g.policy,
    })),
  ];
  for (const t of shared) {
    const policy = withoutTemplates(t.policy);
    for (const domain of [...new Set([...catalog.keys(), ...[...policy.keys()].sort()])]) {
      const bytes = plistBytes(settingsDict([...(policy.get(domain)?.values() ?? [])]), input.plistFormat);
      artifacts.push(artifact(`plists/${t.dir}/${domain}.plist`, bytes, { kind: 'plist', domain, ...(t.group !== undefined && { group: t.group }) }));
    }
    artifacts.push(profileArtifact(input, { ...t, path: `profiles/${t.dir}.mobileconfig`, scope: 'System', policy, accounts: [] }, hasTemplates(t.policy)));
  }

  for (const user of input.users ?? []) {
    const group = groupOf(fleet, user)?.name;
    const policy = policyFor(fleet, user);
    if (!hasTemplates(policy) && fleet.accounts.length === 0) continue;
    const name = safeName(user.name);
    artifacts.push(profileArtifact(input, {
      label: `user ${user.name}`,
      who: `${user.name}${group ? ` (group ${group})` : ''}`,
      ...(group !== undefined && { group }),
      user,
      path: `profiles/users/${name}.mobileconfig`,
      identifier: `${root}.preferences.user.${name}`,
      scope: 'User',
      policy: renderPolicy(policy, user),
      accounts: fleet.accounts,
    }, false));
  }

  artifacts.sort((a, b) => (a.path < b.path ? -1 : 1));
  const manifest = {
    generator: `mdmgen ${input.version}`,
    fleet: { file: fleet.file.split(/[\\/]/).pop(), sha256: sha256(input.fleetBytes) },
    artifacts: artifacts.map((a) => a.entry),
  };
  return {
    artifacts,
    manifest: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    diagnostics: [...duplicateIdentities(fleet.file, artifacts), ...secretWarning(fleet.file, artifacts)],
  };
}

function profileArtifact(input: BuildInput, target: Target, leftOutTemplates: boolean): Artifact {
  const { fleet, catalog } = input;
  const payloads: PlistDict[] = [];
  const summary: string[] = [];
  let containsSecret = false;
  for (const [domain, settings] of target.policy) {
    if (settings.size === 0) continue;
    const all = [...settings.values()];
    const forced = all.filter((s) => s.manage === 'forced');
    const often = all.filter((s) => s.manage === 'often');
    const once = all.filter((s) => s.manage === 'once');
    const mcx: Record<string, PlistValue> = {};
    if (forced.length) mcx.Forced = [{ mcx_preference_settings: settingsDict(forced) }];
    const setOnce: PlistDict[] = [];
    if (once.length) {
      const values = settingsDict(once);
      setOnce.push({ mcx_data_timestamp: contentTimestamp(domain, values), mcx_preference_settings: values });
    }
    if (often.length) setOnce.push({ mcx_preference_settings: settingsDict(often) });
    if (setOnce.length) mcx['Set-Once'] = setOnce;
    payloads.push(withUuid({
      PayloadType: 'com.apple.ManagedClient.preferences',
      PayloadVersion: 1,
      PayloadIdentifier: `${target.identifier}.${domain}`,
      PayloadDisplayName: catalog.get(domain)?.title ?? `${domain} preferences`,
      PayloadContent: { [domain]: mcx },
    }));
    summary.push(describeDomain(domain, forced, once, often));
  }
  for (const [index, account] of target.accounts.entries()) {
    const password = account.authentication === 'password' ? input.secrets?.get(index) : undefined;
    containsSecret ||= password !== undefined;
    // The UUID is derived without the password, so a UUID never lets anyone test a guess of it.
    payloads.push(withUuid(accountPayload(account, target.identifier, target.user!, password), passwordKey(account)));
    summary.push(`iChat: ${account.type} account on ${account.host}.`);
  }

  if (leftOutTemplates) summary.push('Per-user values are in each user\'s own profile.');
  const profile: Record<string, PlistValue> = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: target.identifier,
    PayloadOrganization: fleet.organization.name,
    PayloadDisplayName: `${fleet.organization.name} instant messaging (${target.label})`,
    PayloadDescription: `Messenger for Mac and iChat settings for ${target.who}. ${summary.join(' ')} Built by mdmgen from ${fleet.file.split(/[\\/]/).pop()}.`,
    PayloadScope: target.scope,
    PayloadContent: payloads,
  };
  // The payload UUIDs already stand for the payloads' content, so the profile's UUID hashes those, not the
  // payloads again.
  const uuid = uuidV5(`${target.identifier}\n${writeXmlPlist({ ...profile, PayloadContent: payloads.map((p) => p.PayloadUUID!) }).toString()}`);
  profile.PayloadUUID = uuid;
  return {
    ...artifact(target.path, writeXmlPlist(profile), {
      kind: 'profile',
      ...(target.group !== undefined && { group: target.group }),
      ...(target.user !== undefined && { user: target.user.name }),
      identifier: target.identifier,
      uuid,
      signed: false,
      ...(containsSecret && { containsSecret }),
    }),
    identities: [target.identifier, uuid, ...payloads.flatMap((p) => [String(p.PayloadIdentifier), String(p.PayloadUUID)])],
  };
}

/** Sets PayloadUUID to a UUIDv5 of the identifier and the content (less the named secret key). */
function withUuid(payload: Record<string, PlistValue>, secretKey?: string): Record<string, PlistValue> {
  const hashed = secretKey && secretKey in payload ? { ...payload, [secretKey]: '(secret)' } : payload;
  payload.PayloadUUID = uuidV5(`${String(payload.PayloadIdentifier)}\n${writeXmlPlist(hashed).toString()}`);
  return payload;
}

function hasTemplates(policy: Policy): boolean {
  return [...policy.values()].some((settings) => [...settings.values()].some((s) => s.template));
}

function withoutTemplates(policy: Policy): Policy {
  return new Map([...policy].map(([domain, settings]) => [domain, new Map([...settings].filter(([, s]) => !s.template))]));
}

function describeDomain(domain: string, forced: Setting[], once: Setting[], often: Setting[]): string {
  const parts = [
    forced.length && `forces ${names(forced)}`,
    once.length && `sets once ${names(once)}`,
    often.length && `sets at every login ${names(often)}`,
  ].filter(Boolean);
  return `${domain}: ${parts.join('; ')}.`;
}

function names(settings: Setting[]): string {
  return settings.map((s) => s.key).join(', ');
}

function settingsDict(settings: readonly Setting[]): PlistDict {
  return Object.fromEntries(settings.map((s) => [s.key, s.value]));
}

/**
 * mcx_data_timestamp turns Set-Once into "once": a Mac applies the values again only when the timestamp
 * changes. Deriving it from the values (never the clock) keeps builds reproducible and changes it exactly
 * when an admin changes a once value. The date lies between 2001 and 2018 so it never looks like a future date.
 */
function contentTimestamp(domain: string, values: PlistDict): Date {
  const digest = Buffer.from(sha256(Buffer.concat([Buffer.from(`${domain}\n`), writeXmlPlist(values)])), 'hex');
  return new Date(MCX_EPOCH_MS + (digest.readUInt32BE(0) % 2 ** 29) * 1000);
}

function plistBytes(value: PlistValue, format: BuildInput['plistFormat']): Buffer {
  return format === 'binary' ? writeBinaryPlist(value) : writeXmlPlist(value);
}

function artifact(path: string, bytes: Buffer, entry: Omit<ManifestEntry, 'path' | 'sha256'>): Artifact {
  return { path, bytes, entry: { path, ...entry, sha256: sha256(bytes) } };
}

/** Apple requires unique identifiers; a shared one makes one profile silently replace another. */
function duplicateIdentities(file: string, artifacts: Artifact[]): Diagnostic[] {
  const seen = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const paths = new Map<string, string>();
  for (const { path, identities = [] } of artifacts) {
    // Two paths one name apart only in case are one file on a Mac's (and Windows') file system.
    const folded = path.toLowerCase();
    const clash = paths.get(folded);
    if (clash !== undefined) diagnostics.push(problem(file, `${path} and ${clash} are one file on a case-insensitive disk`));
    paths.set(folded, path);
    for (const id of identities) {
      const other = seen.get(id);
      if (other !== undefined) diagnostics.push(problem(file, `${path} and ${other} would share the identifier ${id}`));
      seen.set(id, path);
    }
  }
  return diagnostics;
}

function problem(file: string, message: string): Diagnostic {
  return { code: 'build/duplicate-identifier', severity: CODES['build/duplicate-identifier'], message, file };
}

function secretWarning(file: string, artifacts: Artifact[]): Diagnostic[] {
  const holding = artifacts.filter((a) => a.entry.containsSecret).map((a) => a.path);
  if (!holding.length) return [];
  const shown = holding.slice(0, 3).join(', ') + (holding.length > 3 ? `, and ${holding.length - 3} more` : '');
  return [{
    code: 'secret/in-profile', severity: CODES['secret/in-profile'], file,
    message: `${holding.length} profile${holding.length === 1 ? ' holds' : 's hold'} an iChat password in clear text (a signed profile is not encrypted): ${shown}`,
  }];
}
