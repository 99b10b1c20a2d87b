import { createHash } from 'node:crypto';
import { display } from '../audit/audit.js';
import { toDisplay } from '../plist/display.js';
import { isDict, type PlistDict, type PlistValue } from '../plist/value.js';

/** An artifact as manifest.json lists it. */
export interface ManifestArtifact {
  path: string;
  kind: string;
  sha256: string;
  identifier?: string;
}

/** One setting of a profile or plist: how it is shown, and what it is exactly (for comparing). */
interface Setting {
  shown: string;
  exact: string;
}

/** A setting that differs between two builds; null where one of them does not have it. */
export interface SettingChange {
  setting: string;
  old: string | null;
  new: string | null;
}

export interface ArtifactChange {
  path: string;
  kind: string;
  change: 'added' | 'removed' | 'changed';
  identifier: string | null;
  /** For a profile or plist in both builds, what it sets differently; null for other files, and where one side is not a plist. */
  settings: SettingChange[] | null;
}

const MANAGE = { Forced: 'forced', 'Set-Once': 'once' } as const;
const dict = (value: PlistValue | undefined): value is PlistDict => value !== undefined && isDict(value);

/**
 * What a profile sets, as lines that can be compared across builds: each Custom Settings key as
 * `domain key` = `forced|once|often value`, any other payload's keys under its PayloadIdentifier, and the
 * profile's own identity. PayloadUUIDs (derived from the content) and PayloadDescription (a summary of
 * the keys) change whenever the rest does, so they are left out.
 */
export function profileSettings(profile: PlistValue): Map<string, Setting> {
  const settings = new Map<string, Setting>();
  if (!isDict(profile)) return settings;
  for (const key of ['PayloadIdentifier', 'PayloadDisplayName', 'PayloadOrganization', 'PayloadScope', 'PayloadRemovalDisallowed']) {
    if (profile[key] !== undefined) settings.set(`profile ${key}`, setting(profile[key]));
  }
  for (const payload of Array.isArray(profile.PayloadContent) ? profile.PayloadContent.filter(isDict) : []) {
    if (payload.PayloadType === 'com.apple.ManagedClient.preferences' && dict(payload.PayloadContent)) {
      for (const [domain, kinds] of Object.entries(payload.PayloadContent)) customSettings(domain, kinds, settings);
      continue;
    }
    const id = String(payload.PayloadIdentifier ?? payload.PayloadType);
    for (const [key, value] of Object.entries(payload)) {
      if (key !== 'PayloadUUID' && key !== 'PayloadDescription') settings.set(`${id} ${key}`, setting(value));
    }
  }
  return settings;
}

/** A domain's Custom Settings: Forced, and Set-Once with a timestamp (once) or without (often). */
function customSettings(domain: string, kinds: PlistValue, settings: Map<string, Setting>): void {
  if (!isDict(kinds)) return;
  for (const [kind, entries] of Object.entries(kinds)) {
    for (const entry of Array.isArray(entries) ? entries.filter(isDict) : []) {
      const manage = kind === 'Set-Once' && entry.mcx_data_timestamp === undefined ? 'often' : MANAGE[kind as keyof typeof MANAGE] ?? kind;
      const values = dict(entry.mcx_preference_settings) ? entry.mcx_preference_settings : {};
      for (const [key, value] of Object.entries(values)) {
        const { shown, exact } = setting(value);
        settings.set(`${domain} ${key}`, { shown: `${manage} ${shown}`, exact: `${manage} ${exact}` });
      }
    }
  }
}

/** What a preference plist sets: each key's value. */
export function plistSettings(plist: PlistValue): Map<string, Setting> {
  return new Map(isDict(plist) ? Object.entries(plist).map(([key, value]) => [key, setting(value)]) : []);
}

function setting(value: PlistValue): Setting {
  const exact = JSON.stringify(toDisplay(value));
  if (value instanceof Uint8Array) return { shown: `<${value.length} bytes, SHA-256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}...>`, exact };
  if (Array.isArray(value) || isDict(value)) return { shown: exact.length > 80 ? `${exact.slice(0, 77)}...` : exact, exact };
  return { shown: display(value), exact };
}

/** The settings two versions of an artifact differ in, by name. */
export function compareSettings(old: Map<string, Setting>, now: Map<string, Setting>): SettingChange[] {
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  return names
    .filter((name) => old.get(name)?.exact !== now.get(name)?.exact)
    .map((name) => ({ setting: name, old: old.get(name)?.shown ?? null, new: now.get(name)?.shown ?? null }));
}

/**
 * The artifacts two manifests differ in, in path order, with `settingsOf` asked for the changed profiles and
 * plists (a few at a time: one after the other, reading the files took most of a diff of 10,000 profiles).
 */
export async function compareManifests(old: readonly ManifestArtifact[], now: readonly ManifestArtifact[], settingsOf: (artifact: ManifestArtifact, side: 'old' | 'new') => Promise<Map<string, Setting> | undefined>): Promise<ArtifactChange[]> {
  const before = new Map(old.map((a) => [a.path, a]));
  const after = new Map(now.map((a) => [a.path, a]));
  const differing = [...new Set([...before.keys(), ...after.keys()])].sort().filter((path) => before.get(path)?.sha256 !== after.get(path)?.sha256);
  const compare = async (path: string): Promise<ArtifactChange> => {
    const [a, b] = [before.get(path), after.get(path)];
    const artifact = (b ?? a)!;
    let settings: SettingChange[] | null = null;
    if (a && b && (b.kind === 'profile' || b.kind === 'plist')) {
      const [was, is] = await Promise.all([settingsOf(a, 'old'), settingsOf(b, 'new')]);
      if (was && is) settings = compareSettings(was, is);
    }
    return { path, kind: artifact.kind, change: !a ? 'added' : !b ? 'removed' : 'changed', identifier: artifact.identifier ?? null, settings };
  };
  const changes: ArtifactChange[] = [];
  for (let i = 0; i < differing.length; i += IN_FLIGHT) changes.push(...await Promise.all(differing.slice(i, i + IN_FLIGHT).map(compare)));
  return changes;
}

const IN_FLIGHT = 16;

/**
 * For people: the profiles and plists that changed, with the settings that did (those that changed the same
 * way, as 100,000 users' profiles do when the base policy changes, together), and what the MDM does with
 * them; other files by path, the install point's (a copy of the rest) counted; then a count.
 */
export function* diffText(changes: readonly ArtifactChange[]): Iterable<string> {
  const sameWay = new Map<string, ArtifactChange[]>();
  const installPoint: ArtifactChange[] = [];
  for (const change of changes) {
    if (change.kind === 'install-point') {
      installPoint.push(change);
      continue;
    }
    const signature = JSON.stringify([change.change, change.kind, change.settings]);
    sameWay.set(signature, [...(sameWay.get(signature) ?? []), change]);
  }
  for (const group of sameWay.values()) {
    const first = group[0]!;
    yield `${first.change}: ${listed(group.map((c) => c.path))}\n`;
    const settings = first.settings ?? [];
    const width = Math.max(0, ...settings.map((s) => s.setting.length));
    for (const s of settings) yield `  ${s.setting.padEnd(width)}  ${s.old ?? '(not set)'} -> ${s.new ?? '(not set)'}\n`;
    if (first.settings?.length === 0) yield `  no setting changed: only ${first.kind === 'profile' ? 'its PayloadDescription or PayloadUUIDs' : 'its encoding (XML or binary)'}\n`;
    if (first.kind === 'profile') yield `  on the Macs: ${effect(first)}\n`;
  }
  if (installPoint.length) {
    const counts = (['changed', 'added', 'removed'] as const).map((c) => [c, installPoint.filter((x) => x.change === c).length] as const).filter(([, n]) => n > 0);
    yield `install point: ${counts.map(([c, n]) => `${n} ${c}`).join(', ')} (${listed(installPoint.map((x) => x.path), 3)})\n`;
  }
  const count = (c: ArtifactChange['change']) => changes.filter((x) => x.change === c).length;
  yield changes.length ? `\n${changes.length} files differ: ${count('changed')} changed, ${count('added')} added, ${count('removed')} removed\n` : 'The two builds are the same.\n';
}

const listed = (paths: readonly string[], most = 5) => (paths.length > most ? `${paths.slice(0, most).join(', ')} and ${paths.length - most} more` : paths.join(', '));

/** What the MDM does with a profile that changed so, by its PayloadIdentifier (which decides replace or add). */
function effect(change: ArtifactChange): string {
  if (change.change === 'added') return 'a new profile to install';
  if (change.change === 'removed') return 'no longer built: remove it from the MDM, or the Macs keep it';
  return change.settings?.some((s) => s.setting === 'profile PayloadIdentifier')
    ? 'its PayloadIdentifier changes, so it installs as a new profile and the old one stays until the MDM removes it'
    : 'the same PayloadIdentifier, so the installed profile is updated in place';
}
