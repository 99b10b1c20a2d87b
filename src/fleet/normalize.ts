import { createHash } from 'node:crypto';
import type { Catalog, PreferenceKey } from '../catalog/catalog.js';
import { CODES, displayKeyPath, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import { Real, type PlistDict, type PlistValue } from '../plist/value.js';
import { suggest } from '../diagnostics/suggest.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import type { Account, Delimiter, Exemption, Fleet, Group, InstallPointSpec, Manage, Policy, SecretRef, Setting, SigningSpec } from './model.js';
import { isTemplate } from './templates.js';
import { booleanHint, typeName } from './validate-schema.js';

type Report = (code: Code, message: string, keyPath: KeyPath, on?: 'key' | 'value') => void;
type Data = Record<string, unknown>;

/**
 * Turns the parsed document (integers as bigint, floats as number) into the Fleet model, typing every
 * preference by the catalogue. Defensive about shape: the schema reports shape errors, this reports values.
 */
export function normalize(source: YamlSource, data: unknown, catalog: Catalog): { fleet: Fleet; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (code, message, keyPath, on = 'value') =>
    diagnostics.push({ code, severity: CODES[code], message, file: source.file, keyPath, ...locate(source, keyPath, on) });
  const root = asObject(data);
  const organization = asObject(root.organization);
  const base = readPolicy(root.preferences, ['preferences'], catalog, report);
  const groups: Group[] = Object.entries(asObject(root.groups))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, raw]) => {
      const group = asObject(raw);
      const keyPath = ['groups', name];
      return {
        name,
        slug: groupSlug(name),
        ...(typeof group.description === 'string' && { description: group.description }),
        keyPath,
        policy: overlay(base, readPolicy(group.preferences, [...keyPath, 'preferences'], catalog, report, base.keys())),
      };
    });
  const directory = asObject(root.directory);
  const fleet: Fleet = {
    file: source.file,
    organization: {
      name: String(organization.name ?? ''),
      identifier: String(organization.identifier ?? ''),
      ...(typeof organization.domain === 'string' && { domain: organization.domain }),
    },
    base,
    groups,
    ...(root.directory !== undefined && {
      directory: {
        file: String(directory.file ?? ''),
        columns: Object.fromEntries(Object.entries(asObject(directory.columns)).map(([k, v]) => [k, String(v)])),
        ...(typeof directory.delimiter === 'string' && { delimiter: directory.delimiter as Delimiter }),
      },
    }),
    accounts: (Array.isArray(root.accounts) ? root.accounts : []).map((raw: unknown, i: number) => readAccount(asObject(raw), ['accounts', i])),
    trust: (Array.isArray(root.trust) ? root.trust : []).map((raw: unknown, i: number) => {
      const entry = asObject(raw);
      return {
        file: String(entry.file ?? ''),
        keyPath: ['trust', i],
        ...(typeof entry.sha256 === 'string' && { sha256: entry.sha256.replace(/:/g, '').toLowerCase() }),
      };
    }),
    ...(root.signing !== undefined && { signing: readSigning(asObject(root.signing)) }),
    ...(root.installPoint !== undefined && { installPoint: readInstallPoint(asObject(root.installPoint)) }),
    network: {
      allowPersonalAccounts: asObject(root.network).allowPersonalAccounts === true,
      ttl: typeof asObject(root.network).ttl === 'bigint' ? Number(asObject(root.network).ttl) : 3600,
    },
    exemptions: (Array.isArray(root.exemptions) ? root.exemptions : []).map((raw: unknown, i: number) => readExemption(asObject(raw), ['exemptions', i])),
  };
  return { fleet, diagnostics };
}

function readInstallPoint(raw: Data): InstallPointSpec {
  return {
    program: String(raw.program ?? ''),
    title: typeof raw.title === 'string' ? raw.title : 'Microsoft Messenger for Mac 5.1',
    application: typeof raw.application === 'string' ? raw.application : '/Applications/Microsoft Messenger',
    ...(typeof raw.share === 'string' && { share: raw.share }),
    ...(raw.archive === 'zip' || raw.archive === 'tar.gz' ? { archive: raw.archive } : {}),
  };
}

function readSigning(raw: Data): SigningSpec {
  const passphrase = readSecret(raw.passphrase);
  return {
    chain: Array.isArray(raw.chain) ? raw.chain.map(String) : [],
    signingTime: raw.signingTime === true,
    ...(typeof raw.certificate === 'string' && { certificate: raw.certificate }),
    ...(typeof raw.key === 'string' && { key: raw.key }),
    ...(typeof raw.pkcs12 === 'string' && { pkcs12: raw.pkcs12 }),
    ...(passphrase && { passphrase }),
  };
}

function readExemption(raw: Data, keyPath: KeyPath): Exemption {
  const optional = (name: 'host' | 'user' | 'group' | 'domain' | 'key') => typeof raw[name] === 'string' && { [name]: raw[name] };
  return {
    ...optional('host'), ...optional('user'), ...optional('group'), ...optional('domain'), ...optional('key'),
    reason: String(raw.reason ?? ''),
    expires: String(raw.expires ?? ''),
    keyPath,
  };
}

function readSecret(raw: unknown): SecretRef | undefined {
  const ref = asObject(raw);
  if (typeof ref.env === 'string') return { env: ref.env };
  if (typeof ref.file === 'string') return { file: ref.file };
  return undefined;
}

function readAccount(raw: Data, keyPath: KeyPath): Account {
  const password = readSecret(raw.password);
  return {
    type: raw.type === 'aim' ? 'aim' : 'jabber',
    host: String(raw.host ?? ''),
    authentication: raw.authentication === 'kerberos' ? 'kerberos' : 'password',
    keyPath,
    ...(typeof raw.description === 'string' && { description: raw.description }),
    ...(typeof raw.port === 'bigint' && { port: Number(raw.port) }),
    ...(typeof raw.ssl === 'boolean' && { ssl: raw.ssl }),
    ...(typeof raw.user === 'string' && { user: raw.user }),
    ...(password && { password }),
  };
}

function readPolicy(raw: unknown, at: KeyPath, catalog: Catalog, report: Report, inherited: Iterable<string> = []): Policy {
  const policy = new Map<string, Map<string, Setting>>();
  const spellings = new Map([...catalog.keys(), ...inherited].map((d) => [d.toLowerCase(), d]));
  for (const [domain, keys] of Object.entries(asObject(raw))) {
    // A domain is one file on a Mac's disk, which ignores case, and a name CFPreferences matches exactly:
    // a second spelling is a slip that would write a profile for no application and one plist over another.
    const twin = spellings.get(domain.toLowerCase());
    if (twin !== undefined && twin !== domain) {
      report('pref/domain-case', `${domain} is ${twin} with other capitals: a Mac matches domains exactly, and keeps both in one file; write ${twin}`, [...at, domain], 'key');
      continue;
    }
    spellings.set(domain.toLowerCase(), domain);
    const entry = catalog.get(domain);
    if (!entry) {
      const hint = suggest(domain, catalog.keys());
      report('pref/unchecked-domain', `${domain} is not in the catalogue: its keys are passed through unchecked${hint ? `; did you mean ${hint}?` : ''}`, [...at, domain], 'key');
    }
    const settings = new Map<string, Setting>();
    for (const [key, written] of Object.entries(asObject(keys))) {
      const keyPath = [...at, domain, key];
      const known = entry?.keys.get(key);
      if (entry && !known) {
        const hint = suggest(key, entry.keys.keys());
        report('schema/unknown-key', `unknown key "${key}" in ${domain}${hint ? `; did you mean "${hint}"?` : ''}`, keyPath, 'key');
        continue;
      }
      // A catalogue key's value is never a map: a map is `{ value, manage }`, and anything else in it a slip.
      if (known && isObject(written)) {
        const stray = Object.keys(written).find((k) => k !== 'value' && k !== 'manage');
        if (stray !== undefined) {
          const hint = suggest(stray, ['value', 'manage']);
          report('schema/unknown-key', `unknown key "${stray}" in ${key}: a setting is a value, or { value, manage }${hint ? `; did you mean "${hint}"?` : ''}`, [...keyPath, stray], 'key');
          continue;
        }
        if (!('value' in written)) {
          report('schema/required', `${key} is written as { manage } without its value`, keyPath, 'key');
          continue;
        }
      }
      const { value: rawValue, manage, valuePath } = unwrap(written, keyPath);
      if (manage === undefined) {
        const wrote = (written as Data).manage;
        const hint = typeof wrote === 'string' ? suggest(wrote, MANAGE) : undefined;
        report('pref/type', `manage must be forced, once or often, not ${typeof wrote === 'string' ? `"${wrote}"` : typeName(wrote)}${hint ? `; did you mean ${hint}?` : ''}`, [...keyPath, 'manage']);
        continue;
      }
      if (rawValue === null || rawValue === undefined) {
        report('pref/type', `${key} has no value; write a value or remove the key`, valuePath);
        continue;
      }
      const value = known ? typed(known, rawValue, valuePath, report) : passThrough(rawValue, valuePath, report);
      if (value === undefined) continue;
      if (known && known.status !== 'applies') {
        report('pref/not-applicable', `${key}: the deployment guide says "${known.description}"; setting it has no effect`, keyPath, 'key');
      }
      settings.set(key, { key, value, manage, keyPath: valuePath, template: typeof value === 'string' && isTemplate(value) });
    }
    policy.set(domain, settings);
  }
  return policy;
}

const MANAGE = ['forced', 'once', 'often'];

/** `Key: value` or `Key: { value, manage }`. */
function unwrap(written: unknown, keyPath: KeyPath): { value: unknown; manage: Manage | undefined; valuePath: KeyPath } {
  if (isObject(written) && 'value' in written && Object.keys(written).every((k) => k === 'value' || k === 'manage')) {
    const manage = written.manage === undefined ? 'forced' : written.manage;
    return {
      value: written.value,
      manage: MANAGE.includes(manage as string) ? (manage as Manage) : undefined,
      valuePath: [...keyPath, 'value'],
    };
  }
  return { value: written, manage: 'forced', valuePath: keyPath };
}

function typed(key: PreferenceKey, value: unknown, keyPath: KeyPath, report: Report): PlistValue | undefined {
  const fail = (expected: string) => {
    report('pref/type', `${key.name} must be ${expected}, not ${typeName(value)}`, keyPath);
    return undefined;
  };
  switch (key.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      // The deployment guide says "set to YES", as plists show booleans; YAML 1.1 read YES as true, 1.2 does not.
      const hint = typeof value === 'string' ? booleanHint(value) : undefined;
      if (!hint) return fail('true or false');
      report('pref/type', `${key.name} must be true or false, not a string: ${hint}`, keyPath);
      return undefined;
    }
    case 'string':
      return typeof value === 'string' ? value : fail('a string (quote it)');
    case 'data': {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(value)) return fail('base64-encoded data');
      return new Uint8Array(Buffer.from(value, 'base64'));
    }
    case 'integer': {
      const expected = key.values
        ? `one of ${Object.entries(key.values).map(([n, v]) => `${n} (${v})`).join(', ')}`
        : 'an integer';
      let number: number | undefined;
      if (typeof value === 'string' && key.values && Object.hasOwn(key.values, value)) number = key.values[value];
      else if (typeof value === 'bigint') number = Number(value);
      else if (typeof value === 'number') {
        report('pref/type', `${key.name} must be an integer; ${value} is written as a real${Number.isInteger(value) ? ` (write ${value}, without the decimal point)` : ''}`, keyPath);
        return undefined;
      }
      if (number === undefined) {
        const shown = typeof value === 'string' && value.length <= 40 ? `"${value}"` : typeName(value);
        const named = typeof value === 'string' && key.values ? Object.keys(key.values).find((n) => n.toLowerCase() === value.toLowerCase()) : undefined;
        report('pref/type', `${key.name} must be ${expected}, not ${shown}${named ? `; did you mean ${named}?` : ''}`, keyPath);
        return undefined;
      }
      if (key.values && !Object.values(key.values).includes(number)) {
        report('pref/type', `${key.name} must be ${expected}, not ${number}`, keyPath);
        return undefined;
      }
      if (!Number.isSafeInteger(number) || (key.minimum !== undefined && number < key.minimum) || (key.maximum !== undefined && number > key.maximum)) {
        report('pref/type', `${key.name} must be between ${key.minimum ?? '-2^53'} and ${key.maximum ?? '2^53'}, not ${value}`, keyPath);
        return undefined;
      }
      return number;
    }
  }
}

/** Values of domains outside the catalogue keep the types YAML gave them: 1 is an integer, 1.0 a real. */
function passThrough(value: unknown, keyPath: KeyPath, report: Report): PlistValue | undefined {
  if (value === null || value === undefined) {
    report('pref/type', `${displayKeyPath(keyPath)} has no value; write a value or remove the key`, keyPath);
    return undefined;
  }
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (typeof value === 'number') return new Real(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const items = value.map((item, i) => passThrough(item, [...keyPath, i], report));
    return items.every((item) => item !== undefined) ? (items as PlistValue[]) : undefined;
  }
  if (isObject(value)) {
    const dict: Record<string, PlistValue> = Object.create(null) as Record<string, PlistValue>;
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      const converted = passThrough(v, [...keyPath, k], report);
      if (converted === undefined) ok = false;
      else dict[k] = converted;
    }
    return ok ? (dict as PlistDict) : undefined;
  }
  report('pref/type', `${displayKeyPath(keyPath)} has a value a plist cannot hold (${typeName(value)})`, keyPath);
  return undefined;
}

function overlay(base: Policy, overrides: Policy): Policy {
  const merged = new Map<string, Map<string, Setting>>();
  for (const [domain, settings] of base) merged.set(domain, new Map(settings));
  for (const [domain, settings] of overrides) {
    const target = merged.get(domain) ?? new Map<string, Setting>();
    for (const [key, setting] of settings) target.set(key, setting);
    merged.set(domain, target);
  }
  return merged;
}

/**
 * A group's slug, with a hash of its name when letters that no ASCII spelling keeps (Cyrillic, Greek,
 * Japanese...) were dropped: such a name would otherwise have no slug (Отдел продаж), or another's
 * (Отдел 1 and Группа 1 would both be "1"). Directory departments are named so, and cannot be renamed here.
 */
function groupSlug(name: string): string {
  const slug = slugify(name);
  if (!/(?![\x00-\x7f])[\p{L}\p{N}]/u.test(name.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''))) return slug;
  return `${slug.slice(0, 51).replace(/-+$/, '') || 'group'}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/** A group name as a file name and identifier component: letters, digits, '-' and '_' only. */
export function slugify(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+/, '').slice(0, 64).replace(/-+$/, '');
}

function asObject(value: unknown): Data {
  return isObject(value) ? value : {};
}

function isObject(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
