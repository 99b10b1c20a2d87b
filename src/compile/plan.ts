import type { Catalog } from '../catalog/catalog.js';
import { CODES, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Fleet, Policy, Setting } from '../fleet/model.js';
import type { PlistDict, PlistValue } from '../plist/value.js';
import { writeBinaryPlist } from '../plist/write-binary.js';
import { writeXmlPlist } from '../plist/write-xml.js';
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

export interface BuildOptions {
  plistFormat: 'xml' | 'binary';
  version: string;
}

interface Target {
  label: string;
  group?: string;
  description?: string;
  dir: string;
  identifier: string;
  policy: Policy;
}

const MCX_EPOCH_MS = Date.UTC(2001, 0, 1);

/** Everything a build writes, as bytes, from the validated fleet. Pure: no file system, no clock. */
export function planBuild(fleet: Fleet, catalog: Catalog, fleetBytes: Uint8Array, options: BuildOptions): BuildPlan {
  const root = fleet.organization.identifier;
  const targets: Target[] = [
    { label: 'base policy', dir: 'base', identifier: `${root}.preferences`, policy: fleet.base },
    ...fleet.groups.map((g) => ({
      label: `group ${g.name}`,
      group: g.name,
      ...(g.description !== undefined && { description: g.description }),
      dir: `groups/${g.slug}`,
      identifier: `${root}.preferences.group.${g.slug}`,
      policy: g.policy,
    })),
  ];
  const artifacts: Artifact[] = [];
  for (const target of targets) {
    for (const domain of domainsOf(target.policy, catalog)) {
      const bytes = plistBytes(settingsDict([...(target.policy.get(domain)?.values() ?? [])]), options.plistFormat);
      artifacts.push(artifact(`plists/${target.dir}/${domain}.plist`, bytes, { kind: 'plist', domain, ...(target.group !== undefined && { group: target.group }) }));
    }
    artifacts.push(profileArtifact(fleet, catalog, target));
  }
  artifacts.sort((a, b) => (a.path < b.path ? -1 : 1));
  const manifest = {
    generator: `mdmgen ${options.version}`,
    fleet: { file: fleet.file.split(/[\\/]/).pop(), sha256: sha256(fleetBytes) },
    artifacts: artifacts.map((a) => a.entry),
  };
  return {
    artifacts,
    manifest: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    diagnostics: duplicateIdentities(fleet.file, artifacts),
  };
}

/** The catalogue's domains always (the install script expects both files), then any pass-through ones. */
function domainsOf(policy: Policy, catalog: Catalog): string[] {
  return [...new Set([...catalog.keys(), ...[...policy.keys()].sort()])];
}

function profileArtifact(fleet: Fleet, catalog: Catalog, target: Target): Artifact {
  const payloads: PlistDict[] = [];
  const summary: string[] = [];
  for (const [domain, settings] of target.policy) {
    if (settings.size === 0) continue;
    const forced = [...settings.values()].filter((s) => s.manage === 'forced');
    const often = [...settings.values()].filter((s) => s.manage === 'often');
    const once = [...settings.values()].filter((s) => s.manage === 'once');
    const mcx: Record<string, PlistValue> = {};
    if (forced.length) mcx.Forced = [{ mcx_preference_settings: settingsDict(forced) }];
    const setOnce: PlistDict[] = [];
    if (once.length) {
      const values = settingsDict(once);
      setOnce.push({ mcx_data_timestamp: contentTimestamp(domain, values), mcx_preference_settings: values });
    }
    if (often.length) setOnce.push({ mcx_preference_settings: settingsDict(often) });
    if (setOnce.length) mcx['Set-Once'] = setOnce;

    const identifier = `${target.identifier}.${domain}`;
    const payload: Record<string, PlistValue> = {
      PayloadType: 'com.apple.ManagedClient.preferences',
      PayloadVersion: 1,
      PayloadIdentifier: identifier,
      PayloadDisplayName: catalog.get(domain)?.title ?? `${domain} preferences`,
      PayloadContent: { [domain]: mcx },
    };
    payload.PayloadUUID = uuidV5(`${identifier}\n${writeXmlPlist(payload).toString()}`);
    payloads.push(payload);
    summary.push(describeDomain(domain, forced, once, often));
  }

  const who = target.group === undefined ? 'Macs outside every group' : `the ${target.group} group${target.description ? ` (${target.description})` : ''}`;
  const profile: Record<string, PlistValue> = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: target.identifier,
    PayloadOrganization: fleet.organization.name,
    PayloadDisplayName: `${fleet.organization.name} instant messaging (${target.label})`,
    PayloadDescription: `Messenger for Mac and iChat preferences for ${who}. ${summary.join(' ')} Built by mdmgen from ${fleet.file.split(/[\\/]/).pop()}.`,
    PayloadScope: 'System',
    PayloadContent: payloads,
  };
  const uuid = uuidV5(`${target.identifier}\n${writeXmlPlist(profile).toString()}`);
  profile.PayloadUUID = uuid;
  const identities = [target.identifier, uuid, ...payloads.flatMap((p) => [String(p.PayloadIdentifier), String(p.PayloadUUID)])];
  return {
    ...artifact(`profiles/${target.dir}.mobileconfig`, writeXmlPlist(profile), {
      kind: 'profile',
      ...(target.group !== undefined && { group: target.group }),
      identifier: target.identifier,
      uuid,
      signed: false,
    }),
    identities,
  };
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

function plistBytes(value: PlistValue, format: BuildOptions['plistFormat']): Buffer {
  return format === 'binary' ? writeBinaryPlist(value) : writeXmlPlist(value);
}

function artifact(path: string, bytes: Buffer, entry: Omit<ManifestEntry, 'path' | 'sha256'>): Artifact {
  return { path, bytes, entry: { path, ...entry, sha256: sha256(bytes) } };
}

/** Apple requires unique identifiers; a shared one makes one profile silently replace another. */
function duplicateIdentities(file: string, artifacts: Artifact[]): Diagnostic[] {
  const seen = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  for (const { path, identities = [] } of artifacts) {
    for (const id of identities) {
      const other = seen.get(id);
      if (other !== undefined) {
        diagnostics.push({ code: 'build/duplicate-identifier', severity: CODES['build/duplicate-identifier'], message: `${path} and ${other} would share the identifier ${id}`, file });
      }
      seen.set(id, path);
    }
  }
  return diagnostics;
}
