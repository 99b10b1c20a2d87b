import { createHash } from 'node:crypto';
import { describeValue, type Catalog } from '../catalog/catalog.js';
import { atLeast, CODES, type Code, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { suggest } from '../diagnostics/suggest.js';
import type { Fleet, Policy, Setting, User } from '../fleet/model.js';
import { macNameKey } from '../directory/names.js';
import { groupOf, policyFor, renderPolicy, REPORT_CAP } from '../fleet/users.js';
import { PlistError, readPlist } from '../plist/read.js';
import { isDict, Real, type PlistValue } from '../plist/value.js';
import { locate, type YamlSource } from '../source/yaml-source.js';

/** A finding is a diagnostic about a pulled plist, with where it came from and what the policy says. */
export interface Finding extends Diagnostic {
  host: string | null;
  user: string | null;
  group: string | null;
  domain: string | null;
  key: string | null;
  expected: string | null;
  actual: string | null;
  /** Where fleet.yaml set the expectation. */
  policy: { file: string; line: number; column: number } | null;
}

/** A plist pulled from a Mac, with the path it was reached by. */
export interface PulledFile {
  file: string;
  host: string | null;
  user: string | null;
  bytes: Buffer;
}

/** Finds a directory user by name: the Directory itself, or a Map of the users a thread was sent. */
export interface UserLookup {
  get(name: string): User | undefined;
}

export interface AuditContext {
  fleet: Fleet;
  source: YamlSource;
  catalog: Catalog;
  usersByName: UserLookup;
}

/** Which pulled files are audited: <domain>.plist for every domain the policy or the catalogue knows. */
export function domainOf(path: string, context: AuditContext): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (!name.endsWith('.plist') || path.includes('/ByHost/')) return undefined;
  const domain = name.slice(0, -'.plist'.length);
  const { fleet, catalog } = context;
  if (catalog.has(domain) || fleet.base.has(domain) || fleet.groups.some((g) => g.policy.has(domain))) return domain;
  // A Mac's disk ignores case: Messenger, asking for com.microsoft.Messenger, reads the com.microsoft.messenger.plist
  // that `defaults write com.microsoft.messenger ...` made. It is that domain's file, not one to pass over.
  let folded = foldedDomains.get(context);
  if (!folded) {
    folded = new Map([...catalog.keys(), ...fleet.base.keys(), ...fleet.groups.flatMap((g) => [...g.policy.keys()])].map((d) => [d.toLowerCase(), d]));
    foldedDomains.set(context, folded);
  }
  return folded.get(domain.toLowerCase());
}

const foldedDomains = new WeakMap<AuditContext, Map<string, string>>();

/** A pulled file as read: its bytes, or why they could not be read. */
export interface PulledBytes {
  file: string;
  host: string | null;
  user: string | null;
  /** What domainOf said of the path it was found by. */
  domain: string;
  bytes: Buffer | { problem: string };
}

export interface Audited {
  file: string;
  group: string | null;
  domain: string;
}

/**
 * The forced keys a file of Managed Preferences holds (what macOS keeps for an installed profile, and lays
 * over the user's own file): `held` is JSON of HeldKey, a string so that it crosses between threads as it
 * is and identical ones are kept once.
 */
export interface ManagedFile {
  file: string;
  host: string;
  /** null for the computer's own file, which holds for every user of the Mac. */
  user: string | null;
  domain: string;
  held: string;
}

/** Audits a pulled file of a domain that domainOf accepted; a file that could not be read is one finding. */
export function auditPulled(pulled: PulledBytes, context: AuditContext): { findings: Finding[]; audited: Audited; managed?: ManagedFile } {
  const { domain } = pulled;
  const known = userNamed(context, pulled.user);
  const group = (known && groupOf(context.fleet, known)?.name) ?? null;
  const audited = { file: pulled.file, group, domain };
  if (Buffer.isBuffer(pulled.bytes)) {
    const { findings, held } = checkFile(pulled as PulledFile, domain, context, known, group);
    const managed = held && pulled.host !== null ? { file: pulled.file, host: pulled.host, user: pulled.user, domain, held: JSON.stringify(held) } : undefined;
    return { findings, audited, ...(managed && { managed }) };
  }
  return {
    findings: [{
      code: 'audit/unreadable', severity: CODES['audit/unreadable'], message: `unreadable plist: ${pulled.bytes.problem}`, file: pulled.file,
      host: pulled.host, user: pulled.user, group: null, domain, key: null, expected: null, actual: null, policy: null,
    }],
    audited,
  };
}

/**
 * Checks one pulled plist against the policy of its user: the user's group from the directory, or the
 * base policy for a user the directory does not know (whose per-user template keys are then not asserted).
 * A forced key that differs is an error; a once or often key that differs is info (the user may change it).
 */
export function auditFile(pulled: PulledFile, domain: string, context: AuditContext): Finding[] {
  const known = userNamed(context, pulled.user);
  return checkFile(pulled, domain, context, known, (known && groupOf(context.fleet, known)?.name) ?? null).findings;
}

/** The findings, and for a file of Managed Preferences the forced keys it holds with their values. */
function checkFile(pulled: PulledFile, domain: string, context: AuditContext, known: User | undefined, group: string | null): { findings: Finding[]; held?: HeldKey[] } {
  const { fleet, catalog } = context;
  const findings: Finding[] = [];
  // The first REPORT_CAP findings of each code, then one that counts the rest: unknown and duplicate keys
  // are as many as the file holds, and a plist of 300,000 made-up keys would otherwise be 300,000 lines of
  // the report about one Mac (and 30 s of did-you-means; the message is made only for a finding kept).
  const perCode = new Map<Code, { count: number; rest?: Finding }>();
  const finding = (code: Code, message: string | (() => string), extra: Partial<Finding> = {}, severity: Severity = CODES[code]): void => {
    const made = (text: string): Finding => ({
      code, severity, message: text, file: pulled.file, host: pulled.host, user: pulled.user, group, domain,
      key: null, expected: null, actual: null, policy: null, ...extra,
    });
    const seen = perCode.get(code) ?? { count: 0 };
    perCode.set(code, seen);
    if (++seen.count <= REPORT_CAP) findings.push(made(typeof message === 'string' ? message : message()));
    // The rest are counted at the line of the first left out, with the most severe of their severities.
    else if (!seen.rest) seen.rest = { ...made(''), key: null, expected: null, actual: null, policy: null };
    else if (atLeast(severity, seen.rest.severity)) seen.rest.severity = severity;
  };

  let read;
  try {
    read = readPlist(pulled.bytes);
  } catch (error) {
    if (!(error instanceof PlistError)) throw error;
    finding('audit/unreadable', `unreadable plist: ${error.message}`, {
      ...(error.line !== undefined && { line: error.line, column: 1 }),
      ...(error.offset !== undefined && { offset: error.offset }),
    });
    return { findings };
  }
  if (!isDict(read.value)) {
    finding('audit/unreadable', 'the plist is not a dictionary of preferences');
    return { findings };
  }
  const values = read.value;
  for (const duplicate of read.duplicateKeys) {
    const key = duplicate.path.join('.');
    finding('audit/duplicate-key', `${key} appears twice; macOS and other readers may disagree about which value counts`, { key, ...(duplicate.line !== undefined && { line: duplicate.line, column: 1 }) });
  }

  const policy = policyOf(fleet, known);
  const settings = policy.get(domain) ?? new Map<string, Setting>();
  const entry = catalog.get(domain);
  const at = (key: string) => {
    const line = read.keyLines.get(key);
    return line !== undefined ? { line, column: 1 } : {};
  };

  // What macOS keeps for installed profiles holds the forced keys; Set-Once values go to the user's file.
  const managed = MANAGED.test(pulled.file);
  const held: HeldKey[] | undefined = managed ? [] : undefined;
  for (const [key, setting] of settings) {
    if (setting.template) continue; // a user the directory does not know: no per-user value to expect
    if (managed && setting.manage !== 'forced') continue;
    const present = Object.hasOwn(values, key);
    const actual = values[key]!;
    if (held && present) held.push([key, valueId(actual), describe(catalog, domain, key, actual), read.keyLines.get(key) ?? null]);
    // Most keys match: the strings a finding needs are only made for one that does not.
    if (present && typeName(actual) === typeName(setting.value) && sameValue(actual, setting.value)) continue;
    const show = (value: PlistValue) => describe(catalog, domain, key, value);
    const severity: Severity = setting.manage === 'forced' ? 'error' : 'info';
    const verb = setting.manage === 'forced' ? 'forces' : 'sets';
    const expected = show(setting.value);
    const common = { key, expected, policy: policyLocation(context, setting), ...at(key) };
    const wanted = typeName(setting.value);
    if (!present) finding('audit/missing-key', `${key} is not set; the policy ${verb} ${expected}`, common, severity);
    else if (typeName(actual) !== wanted) finding('audit/type-mismatch', `${key} is ${typed(actual)}, where the policy has the ${wanted} ${expected}${defaultsHint(actual, wanted)}`, { ...common, actual: withType(actual) }, severity);
    else finding('audit/value-mismatch', `${key} is ${show(actual)}; the policy ${verb} ${expected}`, { ...common, actual: show(actual) }, severity);
  }
  if (entry) {
    for (const key of Object.keys(values)) {
      const value = values[key]!;
      const catalogKey = entry.keys.get(key);
      if (!catalogKey) {
        const message = () => {
          const hint = suggest(key, entry.keys.keys());
          return `${key} is not a ${domain} key${hint ? `; did you mean ${hint}?` : ''}`;
        };
        finding('audit/unknown-key', message, { key, actual: display(value), ...at(key) });
      } else if (!settings.has(key) && typeName(value) !== catalogKey.type) {
        // A key the policy leaves alone, but stored with a type Messenger does not read.
        finding('audit/type-mismatch', `${key} is ${typed(value)}, but Messenger reads ${article(catalogKey.type)}${defaultsHint(value, catalogKey.type)}`, { key, expected: catalogKey.type, actual: withType(value), ...at(key) }, 'warning');
      }
    }
  }
  for (const [code, { count, rest }] of perCode) {
    if (rest) findings.push({ ...rest, message: `... and ${count - REPORT_CAP} more ${code} findings in this file, from this line on` });
  }
  return { findings: findings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)), ...(held && { held }) };
}

const MANAGED = /(?:^|[/\\])Managed Preferences[/\\]/;

/**
 * The files of Managed Preferences a pull holds, by Mac (its host name), user and domain. macOS lays the
 * forced values of installed profiles over the user's own preferences, from the user's own file there
 * first, then from the computer's: a key such a file holds is in force from it, and judged there.
 */
export class ManagedValues {
  /**
   * Per Mac (host name): its files there, as JSON of a Mac's folder and [file, held] pairs while they are
   * few, as a Mac once they are many (a pull may give one host any number of users). 300,000 files of
   * 100,000 Macs took 101 MB as a Map of one id and object a file, and 65 MB as a Map of one id a file.
   */
  private readonly macs = new Map<string, string | Mac>();
  private readonly domains = new Map<string, number>();
  /** Each distinct `held` once, parsed: the users of a group hold the same forced values. */
  private readonly helds: Map<string, HeldKey>[] = [];
  private readonly heldIndex = new Map<string, number>();
  /** The last Mac added to or looked up, parsed: a Mac's files come together, and so do its findings. */
  private last: { host: string; mac: Mac | undefined; changed: boolean } | undefined;

  get size(): number {
    return this.macs.size;
  }

  add({ file, host, user, domain, held }: ManagedFile): void {
    let heldAt = this.heldIndex.get(held);
    if (heldAt === undefined) {
      this.heldIndex.set(held, (heldAt = this.helds.length));
      this.helds.push(new Map((JSON.parse(held) as HeldKey[]).map((k) => [k[0], k])));
    }
    let domainAt = this.domains.get(domain);
    if (domainAt === undefined) this.domains.set(domain, (domainAt = this.domains.size));
    const mac = this.mac(host) ?? { folder: null, files: new Map() };
    if (user === null) mac.folder = file.slice(0, file.length - domain.length - '.plist'.length);
    mac.files.set(fileId(user, domainAt), heldAt);
    if (mac.files.size > FEW_FILES) this.macs.set(host, mac);
    else if (!this.macs.has(host)) this.macs.set(host, '');
    this.last = { host, mac, changed: true };
  }

  /** Whether a file of Managed Preferences of the Mac holds the key for the user: theirs, or the computer's. */
  holds(host: string, user: string | null, domain: string, key: string): boolean {
    return (user !== null && this.held(host, user, domain)?.has(key) === true) || this.held(host, null, domain)?.has(key) === true;
  }

  /**
   * The computer's files of Managed Preferences judged for each user of the Mac (each once) against
   * the user's own policy, where it forces another value than the base policy (against which the file
   * itself was audited) and no file of the user's own there holds the key.
   */
  *againstUsers(users: Iterable<{ host: string; user: string }>, context: AuditContext): Generator<Finding> {
    for (const { host, user: name } of users) {
      const known = context.usersByName.get(name);
      const folder = known && this.mac(host)?.folder;
      if (!folder) continue;
      // Named as the directory names them: the folders of the pull may differ in case.
      const user = known.name;
      const policy = policyOf(context.fleet, known);
      for (const domain of this.domains.keys()) {
        for (const [key, value, shown, line] of this.held(host, null, domain)?.values() ?? []) {
          const setting = policy.get(domain)?.get(key);
          const base = context.fleet.base.get(domain)?.get(key);
          if (!setting || setting.manage !== 'forced' || setting.template || valueId(setting.value) === value) continue;
          if (base?.manage === 'forced' && valueId(base.value) === valueId(setting.value)) continue;
          if (this.held(host, name, domain)?.has(key)) continue;
          const expected = describe(context.catalog, domain, key, setting.value);
          yield {
            code: 'audit/value-mismatch', severity: 'error', file: `${folder}${domain}.plist`, host, user, group: groupOf(context.fleet, known)?.name ?? null, domain, key, expected, actual: shown,
            message: `${key} is ${shown} in the computer's Managed Preferences, over ${user}'s own file; ${user}'s policy forces ${expected}`,
            policy: policyLocation(context, setting), ...(line !== null && { line, column: 1 }),
          };
        }
      }
    }
  }

  /** A Mac's files there; one of few is kept as JSON again when another Mac's are asked for. */
  private mac(host: string): Mac | undefined {
    if (this.last?.host !== host) {
      const { last } = this;
      if (last?.changed && last.mac!.files.size <= FEW_FILES) this.macs.set(last.host, JSON.stringify([last.mac!.folder, ...last.mac!.files]));
      const kept = this.macs.get(host);
      const mac = typeof kept !== 'string' ? kept : kept === '' ? undefined : fromJson(kept);
      this.last = { host, mac, changed: false };
    }
    return this.last.mac;
  }

  /** The forced keys a file of Managed Preferences of the Mac holds: the user's, or the computer's (null). */
  private held(host: string, user: string | null, domain: string): Map<string, HeldKey> | undefined {
    const domainAt = this.domains.get(domain);
    const heldAt = domainAt === undefined ? undefined : this.mac(host)?.files.get(fileId(user, domainAt));
    return heldAt === undefined ? undefined : this.helds[heldAt];
  }
}

/** A Mac's files of Managed Preferences: the computer's folder there, and each file's held forced keys (an index), by fileId. */
interface Mac {
  folder: string | null;
  files: Map<string, number>;
}

/** Beyond this many files there, a Mac is kept as it is rather than as JSON, which would be written again at each file. */
const FEW_FILES = 32;

/** A file by user and domain (an index). The folder there and the home folder may differ in case: users compare as a Mac compares names. */
const fileId = (user: string | null, domainAt: number) => `${user === null ? '' : macNameKey(user)}/${domainAt}`;

function fromJson(json: string): Mac {
  const [folder, ...files] = JSON.parse(json) as [string | null, ...[string, number][]];
  return { folder, files: new Map(files) };
}

/** A forced key a file of Managed Preferences holds: its name, its value as valueId writes it and as a finding shows it, its line (XML). */
type HeldKey = [key: string, value: string, shown: string, line: number | null];

/** The codes that judge a user's own file against a forced key. */
const JUDGED: ReadonlySet<Code> = new Set(['audit/missing-key', 'audit/value-mismatch', 'audit/type-mismatch']);

/** Whether a finding about a user's own file is about a forced key that a file of Managed Preferences of the same Mac holds, and that is judged there. */
export function inForceElsewhere(f: Finding, managed: ManagedValues): boolean {
  return f.severity === 'error' && f.host !== null && f.domain !== null && f.key !== null && JUDGED.has(f.code) && !MANAGED.test(f.file) && managed.holds(f.host, f.user, f.domain, f.key);
}

/** A user's policy: their group's, with their own values; the base policy for a user the directory does not know. */
function policyOf(fleet: Fleet, known: User | undefined): Policy {
  return known ? renderPolicy(policyFor(fleet, known), known) : fleet.base;
}

const userNamed = (context: AuditContext, user: string | null) => (user !== null ? context.usersByName.get(user) : undefined);

/**
 * A value as one string with its type, compared as sameValue compares (an integer's 4 and 4n are one); its
 * SHA-256 when long, as a file of Managed Preferences may hold megabytes as a key's value.
 */
function valueId(value: PlistValue): string {
  const key = valueKey(value);
  return key.length <= 256 ? key : `sha256:${createHash('sha256').update(key).digest('base64')}`;
}

function valueKey(value: PlistValue): string {
  if (value instanceof Real) return `real:${value.value}`;
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (value instanceof Uint8Array) return `data:${Buffer.from(value).toString('base64')}`;
  if (Array.isArray(value)) return `array:${JSON.stringify(value.map(valueKey))}`;
  if (isDict(value)) return `dictionary:${JSON.stringify(Object.keys(value).sort().map((k) => [k, valueKey(value[k]!)]))}`;
  return `${typeName(value)}:${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}

/** Plists of a folder of a pull, of catalogue domains that live in one folder on a Mac, when some are not (yet) found there. */
export interface FolderPlists {
  /** The folder as the files' paths have it, ending in '/'. */
  folder: string;
  host: string | null;
  user: string | null;
  domains: string[];
}

/**
 * Finds the folders of a pull that hold some of the plists the catalogue keeps together (Messenger's two,
 * in Library/Preferences/Microsoft) but not all: the deployment guide asks that users be kept from
 * removing com.microsoft.Messenger.plist, which takes DisallowSave with it. A folder is forgotten as soon
 * as it is complete, so what is held is only the incomplete ones; those found by several threads (a
 * folder split between shares) are merged before missingPlists judges them.
 */
export class FolderSiblings {
  private readonly families = new Map<string, readonly string[]>();
  private readonly open = new Map<string, FolderPlists>();

  constructor(catalog: Catalog) {
    const byFolder = new Map<string, string[]>();
    for (const { domain, file } of catalog.values()) {
      const folder = file.slice(0, file.lastIndexOf('/') + 1);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), domain]);
    }
    for (const family of byFolder.values()) if (family.length > 1) for (const domain of family) this.families.set(domain, family);
  }

  add(file: string, host: string | null, user: string | null, domain: string): void {
    // A profile manages the domains it names: a file of Managed Preferences stands for no other.
    if (!this.families.has(domain) || MANAGED.test(file)) return;
    const found = { folder: file.slice(0, file.lastIndexOf('/') + 1), host, user, domains: [domain] };
    if (this.open.has(found.folder)) this.merge(found);
    else this.open.set(found.folder, found);
  }

  merge(found: FolderPlists): void {
    const family = this.families.get(found.domains[0]!);
    if (!family) return;
    const entry = this.open.get(found.folder);
    if (!entry) {
      if (found.domains.length < family.length) this.open.set(found.folder, { ...found, domains: [...found.domains] });
      return;
    }
    for (const domain of found.domains) if (!entry.domains.includes(domain)) entry.domains.push(domain);
    if (entry.domains.length === family.length) this.open.delete(found.folder);
  }

  /** The folders still incomplete, which this forgets. */
  take(): FolderPlists[] {
    const open = [...this.open.values()];
    this.open.clear();
    return open;
  }

  /** The domains that belong beside `found` but are not there. */
  missing(found: FolderPlists): string[] {
    return (this.families.get(found.domains[0]!) ?? []).filter((domain) => !found.domains.includes(domain));
  }
}

/**
 * A finding for each plist that is not in a folder beside its siblings while the user's policy forces keys
 * in it to values other than Messenger's defaults: gone from the Mac, those keys fall back to the defaults
 * (DisallowSave off). Keys set once are the user's to change, a forced default holds without the file, and
 * a key that a file of Managed Preferences of the Mac holds is judged there.
 */
export function missingPlists(found: FolderPlists, missing: readonly string[], context: AuditContext, managed = new ManagedValues()): Finding[] {
  const known = userNamed(context, found.user);
  const policy = policyOf(context.fleet, known);
  const beside = found.domains.map((d) => `${d}.plist`).sort().join(', ');
  return missing.flatMap((domain): Finding[] => {
    const defaults = context.catalog.get(domain)?.keys;
    const forced = [...(policy.get(domain) ?? new Map<string, Setting>()).entries()].filter(([key, setting]) => {
      const byDefault = defaults?.get(key)?.default;
      return setting.manage === 'forced' && !setting.template && (byDefault === undefined || !sameValue(byDefault, setting.value))
        && !(found.host !== null && managed.holds(found.host, found.user, domain, key));
    });
    if (forced.length === 0) return [];
    const keys = `${forced.slice(0, 3).map(([key]) => key).join(', ')}${forced.length > 3 ? ` and ${forced.length - 3} more` : ''}`;
    return [{
      code: 'audit/missing-plist', severity: CODES['audit/missing-plist'], file: `${found.folder}${domain}.plist`,
      message: `${domain}.plist is not in this folder of the pull, beside ${beside}; where it is gone from the Mac, the keys the policy forces (${keys}) are back to Messenger's defaults`,
      host: found.host, user: found.user, group: (known && groupOf(context.fleet, known)?.name) ?? null, domain,
      key: null, expected: null, actual: null, policy: policyLocation(context, forced[0]![1]),
    }];
  });
}

function typeName(value: PlistValue): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number' || typeof value === 'bigint') return 'integer';
  if (typeof value === 'string') return 'string';
  if (value instanceof Real) return 'real';
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return 'data';
  return Array.isArray(value) ? 'array' : 'dictionary';
}

/** `a string "4"` */
function typed(value: PlistValue): string {
  return `${article(typeName(value))} ${display(value)}`;
}

/** `"4" (string)` */
function withType(value: PlistValue): string {
  return `${display(value)} (${typeName(value)})`;
}

/** What leaves a string where a number or a boolean belongs. */
function defaultsHint(actual: PlistValue, wanted: string): string {
  if (typeof actual !== 'string') return '';
  if (wanted === 'integer') return ' (defaults write without -int stores a string)';
  if (wanted === 'boolean') return ' (defaults write without -bool stores a string)';
  return '';
}

const locations = new WeakMap<AuditContext, Map<string, { file: string; line: number; column: number }>>();

/** Where fleet.yaml set a value, found once per key path for the whole audit. */
function policyLocation(context: AuditContext, setting: Setting): { file: string; line: number; column: number } {
  let cache = locations.get(context);
  if (!cache) locations.set(context, (cache = new Map()));
  const id = setting.keyPath.join('\0');
  let location = cache.get(id);
  if (!location) cache.set(id, (location = { file: context.source.file, ...locate(context.source, setting.keyPath) }));
  return location;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function sameValue(a: PlistValue, b: PlistValue): boolean {
  if (a instanceof Real && b instanceof Real) return a.value === b.value;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (typeof a === 'bigint' || typeof b === 'bigint') return (typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && BigInt(a) === BigInt(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x: PlistValue, i: number) => sameValue(x, b[i]!));
  if (isDict(a) && isDict(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k]!, b[k]!));
  }
  return a === b;
}

/** A value as the admin wrote it: `tls (4)` for a key the catalogue names the numbers of; any other as display shows it, cut short. */
export function describe(catalog: Catalog, domain: string, key: string, value: PlistValue): string {
  const catalogKey = catalog.get(domain)?.keys.get(key);
  return catalogKey && typeof value === 'number' ? describeValue(catalogKey, value) : display(value);
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** A value for a message: strings quoted and cut short, data by size, containers by count. */
export function display(value: PlistValue): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value instanceof Real) return String(value.value);
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return `[${count(value.length, 'item')}]`;
  if (isDict(value)) return `{${count(Object.keys(value).length, 'key')}}`;
  return String(value);
}
