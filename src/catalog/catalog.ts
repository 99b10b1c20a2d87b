import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type PreferenceType = 'boolean' | 'integer' | 'string' | 'data';
/** How the seed marks a key: `applies`, or one of the marks that make setting it a warning. */
export type KeyStatus = 'applies' | 'not-applicable' | 'not-used' | 'legacy';

export interface PreferenceKey {
  name: string;
  type: PreferenceType;
  description: string;
  status: KeyStatus;
  default?: boolean | number;
  /** Names an admin may write instead of the integer (RTCTransport: tls = 4, tcp = 2). */
  values?: Readonly<Record<string, number>>;
  minimum?: number;
  maximum?: number;
  /** The key's spelling in the seed, where it differs (PDF errata, MRU ranges). */
  seedName?: string;
}

export interface PreferenceDomain {
  domain: string;
  title: string;
  /** Where the plist lives, relative to the user's home folder. */
  file: string;
  keys: ReadonlyMap<string, PreferenceKey>;
}

export type Catalog = ReadonlyMap<string, PreferenceDomain>;

export const PROFILES_DIR = new URL('../../../profiles/', import.meta.url);

type RawDomain = { domain: string; title: string; file: string; keys: Record<string, Omit<PreferenceKey, 'name' | 'status'> & { status?: KeyStatus }> };

/** The catalogue as written: profiles/preferences/*.yaml, parsed. scripts/bake.mjs stores this as JSON. */
export function readCatalogSources(): RawDomain[] {
  const dir = new URL('preferences/', PROFILES_DIR);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((name) => parse(readFileSync(new URL(name, dir), 'utf8')) as RawDomain);
}

export const BAKED_CATALOG = new URL('../../generated/catalog.json', import.meta.url);

let cached: Catalog | undefined;

/**
 * The preference catalogue in profiles/: the one source of truth for validation, build, audit and docs.
 * Read from the JSON the build bakes from the YAML (parsing the YAML costs ~60 ms on every run).
 */
export function loadCatalog(): Catalog {
  if (cached) return cached;
  const domains = new Map<string, PreferenceDomain>();
  for (const raw of JSON.parse(readFileSync(BAKED_CATALOG, 'utf8')) as RawDomain[]) {
    const keys = new Map<string, PreferenceKey>();
    for (const [keyName, entry] of Object.entries(raw.keys)) {
      keys.set(keyName, { ...entry, name: keyName, status: entry.status ?? 'applies' });
    }
    domains.set(raw.domain, { domain: raw.domain, title: raw.title, file: raw.file, keys });
  }
  cached = domains;
  return domains;
}

/** The name an admin wrote for an enumerated integer, for messages: `tls (4)`. */
export function describeValue(key: PreferenceKey, value: unknown): string {
  if (key.values && typeof value === 'number') {
    const name = Object.entries(key.values).find(([, v]) => v === value)?.[0];
    if (name) return `${name} (${value})`;
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
