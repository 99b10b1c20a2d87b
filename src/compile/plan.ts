import type { Catalog } from '../catalog/catalog.js';
import type { Directory, PackedRows } from '../directory/directory.js';
import { safeName } from '../directory/names.js';
import { CODES, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Account, Fleet, Group, Policy, Setting, User } from '../fleet/model.js';
import { groupOf, policyFor, renderPolicy } from '../fleet/users.js';
import { freezePlist, type PlistDict, type PlistValue } from '../plist/value.js';
import { writeBinaryPlist } from '../plist/write-binary.js';
import { writeXmlPlist, xmlPlistText } from '../plist/write-xml.js';
import { slugify } from '../fleet/normalize.js';
import { subjectCommonName, type Certificate } from '../pki/certificates.js';
import { adminNote, entryNameProblems, installPointEntries, type ProgramFile } from '../install-point/install-point.js';
import { dnsZone } from '../network/dns.js';
import { pfAnchor, portRules, portsJson, portsMarkdown } from '../network/ports.js';
import { accountPayload, passwordKey } from './accounts.js';
import { sha256 } from './identity.js';
import { byContent, Stencil, type Identify } from './stencil.js';

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
  /** File mode when written; 0644 unless executable. */
  mode?: 0o644 | 0o755;
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
  users?: Directory;
  /** Resolved passwords by account index; resolving them is the caller's I/O. */
  secrets?: ReadonlyMap<number, string>;
  /** The trust anchors, checked and deduplicated. */
  anchors?: readonly Certificate[];
  /** Signs a profile's bytes (CMS), when a signing identity is configured. */
  sign?: (content: Uint8Array) => Buffer;
  /** The program's files, read from installPoint.program. */
  program?: readonly ProgramFile[];
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
  /** The user's group policy before rendering: a domain `policy` shares with it has no template, so every user of the group gets the same. */
  unrendered?: Policy;
  accounts: readonly Account[];
}

const MCX_EPOCH_MS = Date.UTC(2001, 0, 1);

/** A user who gets a profile of their own, with the file it goes to. */
export interface UserTarget {
  user: User;
  /** The user's name made safe for a file name and an identifier. */
  name: string;
  path: string;
}

export function userTarget(user: User): UserTarget {
  const name = safeName(user.name);
  return { user, name, path: `profiles/users/${name}.mobileconfig` };
}

/** The users who get a profile of their own, in path order, as directory rows: each target is made when asked for. */
export class UserTargets implements Iterable<UserTarget> {
  private readonly directory: Directory | undefined;
  private readonly rows: Int32Array;

  constructor(directory: Directory | undefined, rows: Int32Array) {
    this.directory = directory;
    this.rows = rows;
  }

  get length(): number {
    return this.rows.length;
  }

  at(index: number): UserTarget {
    return userTarget(this.directory!.at(this.rows[index]!));
  }

  /** The users of targets `from` to `to` (not included), packed for another thread. */
  pack(from: number, to: number): PackedRows {
    return this.directory!.pack(this.rows.subarray(from, to));
  }

  *[Symbol.iterator](): Iterator<UserTarget> {
    for (let i = 0; i < this.rows.length; i++) yield this.at(i);
  }
}

/**
 * Everything a build writes but the per-user profiles, which are many and alike: their targets are listed,
 * and `userArtifact` makes each one, so a caller can stream them (or spread them over threads) instead of
 * holding them all. Every diagnostic is known here, before a byte is written.
 */
export interface SharedPlan {
  /** Sorted by path. */
  artifacts: Artifact[];
  /** Sorted by path. */
  users: UserTargets;
  diagnostics: Diagnostic[];
}

/** Everything a build writes, as bytes, from the validated fleet. Pure: no file system, no clock. */
export async function planBuild(input: BuildInput): Promise<BuildPlan> {
  const shared = await planShared(input);
  const manifest = new ManifestText(input, shared.artifacts);
  const users = Array.from(shared.users, (target) => userArtifact(input, target));
  const text = [manifest.start(), ...users.map((a) => manifest.add(a.path, manifestEntryText(a.entry))), manifest.end()].join('');
  const artifacts = [...shared.artifacts, ...users].sort((a, b) => (a.path < b.path ? -1 : 1));
  return { artifacts, manifest: Buffer.from(text), diagnostics: shared.diagnostics };
}

export async function planShared(input: BuildInput): Promise<SharedPlan> {
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

  if (input.anchors?.length) artifacts.push(...trustArtifacts(input, input.anchors));
  const diagnostics: Diagnostic[] = [];
  const rules = portRules(fleet);
  if (rules.length) {
    artifacts.push(
      artifact('network/ports.json', portsJson(rules), { kind: 'network' }),
      artifact('network/ports.md', portsMarkdown(fleet, rules), { kind: 'network' }),
      artifact('network/pf.anchor', pfAnchor(fleet, rules), { kind: 'network' }),
    );
  }
  const dns = dnsZone(fleet);
  diagnostics.push(...dns.diagnostics);
  if (dns.zone) artifacts.push(artifact(`dns/${dns.zone.name}`, dns.zone.text, { kind: 'dns' }));
  if (fleet.installPoint && input.program) {
    const installPoint = await installPointArtifacts(input, artifacts, input.program);
    if ('problems' in installPoint) diagnostics.push(...installPoint.problems);
    else artifacts.push(...installPoint.artifacts);
  }
  artifacts.sort((a, b) => (a.path < b.path ? -1 : 1));

  const users = userTargets(fleet, input.users);
  const userSecrets = fleet.accounts.some((a, i) => a.authentication === 'password' && input.secrets?.has(i));
  const holding = artifacts.filter((a) => a.entry.containsSecret).map((a) => a.path);
  const shown = [...holding, ...(userSecrets ? Array.from({ length: Math.min(3, users.length) }, (_, i) => users.at(i).path) : [])];
  return {
    artifacts,
    users,
    diagnostics: [...diagnostics, ...duplicateIdentities(fleet.file, artifacts), ...userClashes(input, users), ...secretWarning(fleet.file, shown, holding.length + (userSecrets ? users.length : 0))],
  };
}

/** A user gets a profile of their own for templates to render or iChat accounts to set up. */
function getsProfile(fleet: Fleet, user: User): boolean {
  return fleet.accounts.length > 0 || hasTemplates(policyFor(fleet, user));
}

function userTargets(fleet: Fleet, directory: Directory | undefined): UserTargets {
  const rows: number[] = [];
  const paths: string[] = [];
  let row = 0;
  for (const user of directory ?? []) {
    if (getsProfile(fleet, user)) {
      rows.push(row);
      paths.push(userTarget(user).path);
    }
    row++;
  }
  const order = Int32Array.from(rows.keys()).sort((a, b) => (paths[a]! < paths[b]! ? -1 : 1));
  return new UserTargets(directory, order.map((k) => rows[k]!));
}

/** One user's profile: their group's policy with the templates rendered, and the iChat accounts. */
export function userArtifact(input: BuildInput, target: UserTarget): Artifact {
  const stencil = userStencil(input, target);
  return (stencil && filledProfile(input, stencil, target)) ?? userProfile(input, target);
}

/** A user's profile made without a stencil: what every stencil must give byte for byte (the tests compare them). */
export function userProfile(input: BuildInput, target: UserTarget): Artifact {
  return envelope(input, profileEnvelope(input, userProfileTarget(input, target), false, byContent));
}

/** Undefined when a value of the user's cannot be written to XML: the general code then says where. */
function filledProfile(input: BuildInput, { stencil, entry }: UserStencil, { user, name, path }: UserTarget): Artifact | undefined {
  const filled = stencil.fill(user.values, name);
  return filled && profileFile(input, { path, identifier: userIdentifier(input, name), entry: { ...entry, user: user.name } }, filled.text, filled.uuid);
}

function userProfileTarget(input: BuildInput, { user, name, path }: UserTarget): Target {
  const { fleet } = input;
  const group = groupOf(fleet, user)?.name;
  const unrendered = policyFor(fleet, user);
  return {
    label: `user ${user.name}`,
    who: `${user.name}${group ? ` (group ${group})` : ''}`,
    ...(group !== undefined && { group }),
    user,
    path,
    identifier: userIdentifier(input, name),
    scope: 'User',
    policy: renderPolicy(unrendered, user),
    unrendered,
    accounts: fleet.accounts,
  };
}

function userIdentifier(input: BuildInput, name: string): string {
  return `${input.fleet.organization.identifier}.preferences.user.${name}`;
}

/** A group's stencil, and the manifest entry of its users' profiles, less the user's name. */
interface UserStencil {
  stencil: Stencil;
  entry: Partial<ManifestEntry>;
}

/** Per build, per group (undefined: the base policy), the stencil of its users' profiles, or null where none is used. */
const stencils = new WeakMap<BuildInput, Map<Group | undefined, UserStencil | null>>();

/**
 * The stencil of the profiles of this user's group, recorded from the general code on the first user who
 * asks. A once value with a template has a per-user mcx_data_timestamp, hashed from the value rather than
 * from the text, so such a group has none. Before it is used, the stencil's profile of that first user must
 * be byte for byte the general one (a slot character written literally in fleet.yaml would fail this).
 */
export function userStencil(input: BuildInput, target: UserTarget): UserStencil | null {
  const { fleet } = input;
  const variables = fleet.directory ? Object.keys(fleet.directory.columns) : undefined;
  const group = groupOf(fleet, target.user);
  let byGroup = stencils.get(input);
  if (!byGroup) stencils.set(input, (byGroup = new Map()));
  let made = byGroup.get(group);
  if (made !== undefined) return made;
  made = null;
  const policy = group?.policy ?? fleet.base;
  const onceTemplate = [...policy.values()].some((settings) => [...settings.values()].some((s) => s.template && s.manage === 'once'));
  if (variables?.includes('user') && !onceTemplate) {
    let entry: Partial<ManifestEntry> = {};
    const stencil = Stencil.record(variables, (values, name, identify) => {
      const user: User = { name: values.user!, values, line: target.user.line, ...(target.user.group !== undefined && { group: target.user.group }) };
      const e = profileEnvelope(input, userProfileTarget(input, { user, name, path: target.path }), false, identify);
      entry = e.entry;
      return envelopeText(input, e, identify)[0];
    });
    const candidate = filledProfile(input, { stencil, entry }, target);
    const general = userProfile(input, target);
    if (candidate && candidate.bytes.equals(general.bytes) && manifestEntryText(candidate.entry) === manifestEntryText(general.entry)) made = { stencil, entry };
  }
  byGroup.set(group, made);
  return made;
}

/**
 * manifest.json, written as it goes: the shared artifacts are merged in path order with the per-user ones
 * as those arrive (in path order), so a build of 100,000 users never holds 100,000 entries. The text is
 * exactly JSON.stringify(manifest, null, 2).
 */
export class ManifestText {
  private readonly pending: ManifestEntry[];
  private readonly input: BuildInput;
  private count = 0;
  constructor(input: BuildInput, shared: readonly Artifact[]) {
    this.input = input;
    this.pending = shared.map((a) => a.entry).reverse();
  }

  start(): string {
    const head = { generator: `mdmgen ${this.input.version}`, fleet: { file: this.input.fleet.file.split(/[\\/]/).pop(), sha256: sha256(this.input.fleetBytes) }, artifacts: [] };
    return JSON.stringify(head, null, 2).replace(/\]\n\}$/, '');
  }

  /** The text for an entry (as manifestEntryText wrote it), after every shared entry that sorts before it. */
  add(path: string, entryText: string): string {
    let text = '';
    while (this.pending.length && this.pending.at(-1)!.path < path) text += this.entry(manifestEntryText(this.pending.pop()!));
    return text + this.entry(entryText);
  }

  end(): string {
    const rest = this.pending.splice(0).reverse().map((e) => this.entry(manifestEntryText(e))).join('');
    return `${rest}${this.count ? '\n  ]' : ']'}\n}\n`;
  }

  private entry(text: string): string {
    return `${this.count++ ? ',' : ''}\n    ${text}`;
  }
}

/** An entry as it sits in manifest.json's artifacts; made where the entry is, a build thread included. */
export function manifestEntryText(entry: ManifestEntry): string {
  return JSON.stringify(entry, null, 2).replace(/\n/g, '\n    ');
}

async function installPointArtifacts(input: BuildInput, built: readonly Artifact[], program: readonly ProgramFile[]): Promise<{ artifacts: Artifact[] } | { problems: Diagnostic[] }> {
  const { fleet } = input;
  const spec = fleet.installPoint!;
  const entries = installPointEntries(fleet, built, program, input.anchors ?? [], input.users);
  const problems = entryNameProblems(entries.map((e) => e.path));
  if (problems.length) {
    return { problems: problems.map((message) => ({ code: 'install-point/program', severity: CODES['install-point/program'], message: `install point: ${message}`, file: fleet.file })) };
  }
  const kindOf = (path: string): ArtifactKind => (path.endsWith('.sh') ? 'script' : path === 'Read Me.txt' ? 'document' : 'install-point');
  const artifacts: Artifact[] = entries.map((e) => ({ ...artifact(`install-point/${e.path}`, e.bytes, { kind: kindOf(e.path) }), mode: e.mode }));
  const archiveName = spec.archive ? `install-point.${spec.archive === 'zip' ? 'zip' : 'tar.gz'}` : undefined;
  if (spec.archive && archiveName) {
    // archiver costs ~80 ms to load: only builds that write an archive pay for it.
    const { archiveInstallPoint } = await import('../install-point/archive.js');
    artifacts.push(artifact(archiveName, await archiveInstallPoint(entries, spec.archive, 'install-point'), { kind: 'archive' }));
  }
  artifacts.push(artifact('install-point-admin.txt', adminNote(fleet, archiveName), { kind: 'document' }));
  return { artifacts };
}

function profileArtifact(input: BuildInput, target: Target, leftOutTemplates: boolean): Artifact {
  return envelope(input, profileEnvelope(input, target, leftOutTemplates, byContent));
}

function profileEnvelope(input: BuildInput, target: Target, leftOutTemplates: boolean, identify: Identify): Envelope {
  const { fleet, catalog } = input;
  const payloads: PlistDict[] = [];
  const summary: string[] = [];
  let containsSecret = false;
  for (const [domain, settings] of target.policy) {
    if (settings.size === 0) continue;
    const { content, description } = settings === target.unrendered?.get(domain) ? sharedDomainPayload(domain, settings) : domainPayload(domain, settings);
    payloads.push(withUuid(identify, {
      PayloadType: 'com.apple.ManagedClient.preferences',
      PayloadVersion: 1,
      PayloadIdentifier: `${target.identifier}.${domain}`,
      PayloadDisplayName: catalog.get(domain)?.title ?? `${domain} preferences`,
      PayloadContent: content,
    }));
    summary.push(description);
  }
  for (const [index, account] of target.accounts.entries()) {
    const password = account.authentication === 'password' ? input.secrets?.get(index) : undefined;
    containsSecret ||= password !== undefined;
    // The UUID is derived without the password, so a UUID never lets anyone test a guess of it.
    payloads.push(withUuid(identify, accountPayload(account, target.identifier, target.user!, password), passwordKey(account)));
    summary.push(`iChat: ${account.type} account on ${account.host}.`);
  }

  if (leftOutTemplates) summary.push('Per-user values are in each user\'s own profile.');
  return {
    path: target.path,
    identifier: target.identifier,
    displayName: `${fleet.organization.name} instant messaging (${target.label})`,
    description: [`Messenger for Mac and iChat settings for ${target.who}.`, ...summary, `Built by mdmgen from ${fleet.file.split(/[\\/]/).pop()}.`].join(' '),
    scope: target.scope,
    payloads,
    entry: {
      ...(target.group !== undefined && { group: target.group }),
      ...(target.user !== undefined && { user: target.user.name }),
      ...(containsSecret && { containsSecret }),
    },
  };
}

// A group's domain without templates is one Map shared by all its users (renderPolicy keeps it), so its
// Custom Settings content is made once, frozen, and serialised once per indent by the XML writer.
const domainPayloads = new WeakMap<ReadonlyMap<string, Setting>, { content: PlistDict; description: string }>();

function sharedDomainPayload(domain: string, settings: ReadonlyMap<string, Setting>): { content: PlistDict; description: string } {
  let made = domainPayloads.get(settings);
  if (!made) {
    made = domainPayload(domain, settings);
    freezePlist(made.content);
    domainPayloads.set(settings, made);
  }
  return made;
}

/** A domain's Custom Settings: Forced, Set-Once with a timestamp (once), Set-Once without one (often). */
function domainPayload(domain: string, settings: ReadonlyMap<string, Setting>): { content: PlistDict; description: string } {
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
  return { content: { [domain]: mcx }, description: describeDomain(domain, forced, once, often) };
}

/**
 * The trust anchors as the guide's "X509 Anchors" want them: a PEM bundle, one DER .cer each (to install by
 * hand), and a System-scope profile with one com.apple.security.root payload per anchor.
 */
function trustArtifacts(input: BuildInput, anchors: readonly Certificate[]): Artifact[] {
  const root = input.fleet.organization.identifier;
  const used = new Set<string>();
  const named = anchors.map((cert) => {
    let name = slugify(subjectCommonName(cert)) || 'certificate';
    if (used.has(name.toLowerCase())) name = `${name}-${cert.sha256.slice(0, 8)}`;
    used.add(name.toLowerCase());
    return { cert, file: `${name}.cer` };
  });
  const pem = named.map(({ cert }) => `-----BEGIN CERTIFICATE-----\n${cert.der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`).join('');
  const payloads = named.map(({ cert, file }) => withUuid(byContent, {
    PayloadType: 'com.apple.security.root',
    PayloadVersion: 1,
    PayloadIdentifier: `${root}.trust.${cert.sha256.slice(0, 16)}`,
    PayloadDisplayName: subjectCommonName(cert),
    PayloadCertificateFileName: file,
    PayloadContent: new Uint8Array(cert.der),
  }));
  return [
    artifact('certificates/anchors.pem', Buffer.from(pem), { kind: 'certificate' }),
    ...named.map(({ cert, file }) => artifact(`certificates/${file}`, cert.der, { kind: 'certificate' })),
    envelope(input, {
      path: 'profiles/trust.mobileconfig',
      identifier: `${root}.trust`,
      displayName: `${input.fleet.organization.name} certificate authorities`,
      description: `Installs ${named.map(({ cert }) => `"${subjectCommonName(cert)}"`).join(', ')} as ${named.length === 1 ? 'a trusted root' : 'trusted roots'} (the deployment guide's X509 Anchors), so Macs trust the Live Communications and iChat servers' TLS certificates. Built by mdmgen.`,
      scope: 'System',
      payloads,
      entry: {},
    }),
  ];
}

interface Envelope {
  path: string;
  identifier: string;
  displayName: string;
  description: string;
  scope: 'System' | 'User';
  payloads: PlistDict[];
  entry: Partial<ManifestEntry>;
}

function envelope(input: BuildInput, e: Envelope): Artifact {
  return profileFile(input, e, ...envelopeText(input, e, byContent));
}

/** The profile around its payloads, as text, and its UUID. */
function envelopeText(input: BuildInput, e: Envelope, identify: Identify): [text: string, uuid: string] {
  const profile: Record<string, PlistValue> = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: e.identifier,
    PayloadOrganization: input.fleet.organization.name,
    PayloadDisplayName: e.displayName,
    PayloadDescription: e.description,
    PayloadScope: e.scope,
    PayloadContent: e.payloads,
  };
  // The payload UUIDs already stand for the payloads' content, so the profile's UUID hashes those, not the
  // payloads again.
  const uuid = identify(e.identifier, xmlPlistText({ ...profile, PayloadContent: e.payloads.map((p) => p.PayloadUUID!) }));
  profile.PayloadUUID = uuid;
  return [xmlPlistText(profile), uuid];
}

/** The profile's file: signed when a signing identity is configured, with its manifest entry. */
function profileFile(input: BuildInput, e: Pick<Envelope, 'path' | 'identifier' | 'entry'> & { payloads?: PlistDict[] }, text: string, uuid: string): Artifact {
  const xml = Buffer.from(text);
  return {
    ...artifact(e.path, input.sign ? input.sign(xml) : xml, { kind: 'profile', ...e.entry, identifier: e.identifier, uuid, signed: input.sign !== undefined }),
    ...(e.payloads && { identities: [e.identifier, uuid, ...e.payloads.flatMap((p) => [String(p.PayloadIdentifier), String(p.PayloadUUID)])] }),
  };
}

/** Sets PayloadUUID from the identifier and the content (less the named secret key). */
function withUuid(identify: Identify, payload: Record<string, PlistValue>, secretKey?: string): PlistDict & { PayloadUUID: string } {
  const hashed = secretKey && secretKey in payload ? { ...payload, [secretKey]: '(secret)' } : payload;
  payload.PayloadUUID = identify(String(payload.PayloadIdentifier), xmlPlistText(hashed));
  return payload as PlistDict & { PayloadUUID: string };
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

/**
 * duplicateIdentities for the per-user profiles, without holding their identifiers. User names are unique as
 * a Mac compares them (the directory reader sees to that), so two of these profiles share a file only if
 * their safe names fold to one, and an identifier only if one name is another's plus a payload's suffix
 * (alice and alice.com.microsoft.Messenger), or if two accounts share a type and a host.
 */
function userClashes(input: BuildInput, users: UserTargets): Diagnostic[] {
  const { fleet } = input;
  const file = fleet.file;
  const diagnostics: Diagnostic[] = [];
  const accountSuffixes = fleet.accounts.map((a) => `.account.${a.type}.${slugify(a.host)}`);
  const twice = accountSuffixes.find((s, i) => accountSuffixes.indexOf(s) !== i);
  const first = users.length ? users.at(0) : undefined;
  if (twice && first) diagnostics.push(problem(file, `${first.path} would hold the identifier ${fleet.organization.identifier}.preferences.user.${first.name}${twice} twice: two accounts share a type and a host`));
  const suffixesOf = new Map<Policy, Set<string>>();
  const suffixes = (policy: Policy) => {
    let known = suffixesOf.get(policy);
    if (!known) suffixesOf.set(policy, (known = new Set([...[...policy].filter(([, settings]) => settings.size > 0).map(([domain]) => `.${domain}`), ...accountSuffixes])));
    return known;
  };
  const all = [...new Set([...fleet.groups.map((g) => g.policy), fleet.base].flatMap((p) => [...suffixes(p)]))];
  // A safe name is the user's own name but for the few names made safe, which are kept here.
  const renamed = new Map<string, UserTarget>();
  const byFolded = new Map<string, string>();
  // Looked at from the longer name: few names end with a payload's suffix, so this costs no string.
  const longer: [UserTarget, string][] = [];
  for (const u of users) {
    if (u.name !== u.user.name) renamed.set(u.name, u);
    const folded = u.path.toLowerCase();
    const clash = byFolded.get(folded);
    if (clash !== undefined) diagnostics.push(problem(file, `${u.path} and ${clash} are one file on a case-insensitive disk`));
    byFolded.set(folded, u.path);
    for (const suffix of all) if (u.name.endsWith(suffix)) longer.push([u, suffix]);
  }
  const byName = (name: string): UserTarget | undefined => {
    const user = input.users?.get(name);
    return user && safeName(user.name) === name && getsProfile(fleet, user) ? userTarget(user) : renamed.get(name);
  };
  for (const [u, suffix] of longer) {
    const shorter = byName(u.name.slice(0, -suffix.length));
    if (shorter && suffixes(policyFor(fleet, shorter.user)).has(suffix)) {
      diagnostics.push(problem(file, `${shorter.path} and ${u.path} would share the identifier ${fleet.organization.identifier}.preferences.user.${u.name}`));
    }
  }
  return diagnostics;
}

function problem(file: string, message: string): Diagnostic {
  return { code: 'build/duplicate-identifier', severity: CODES['build/duplicate-identifier'], message, file };
}

/** `holding` profiles hold a password; `paths` are the first of them. */
function secretWarning(file: string, paths: readonly string[], holding: number): Diagnostic[] {
  if (!holding) return [];
  const shown = paths.slice(0, 3).join(', ') + (holding > 3 ? `, and ${holding - 3} more` : '');
  return [{
    code: 'secret/in-profile', severity: CODES['secret/in-profile'], file,
    message: `${holding} profile${holding === 1 ? ' holds' : 's hold'} an iChat password in clear text (a signed profile is not encrypted): ${shown}`,
  }];
}
