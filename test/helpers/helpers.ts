import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'mdmgen.js');
export const EXAMPLE = join(ROOT, 'examples', 'fleet.yaml');
export const SHARED = join(ROOT, '..', 'shared');

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the real CLI in a child process, as a user would. */
export function mdmgen(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: Buffer } = {}): Run {
  const spawnOptions: SpawnSyncOptions = {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...(options.timeout && { timeout: options.timeout }),
    ...(options.input && { input: options.input }),
  };
  const result = spawnSync(process.execPath, [BIN, ...args], spawnOptions);
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const made: string[] = [];
// Each test file runs in its own process: its folders go when it exits, so runs do not fill the temp folder.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'mdmgen-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A fleet.yaml in a fresh folder; returns its path. */
export function writeFleet(text: string | Uint8Array, dir = tempDir()): string {
  const file = join(dir, 'fleet.yaml');
  writeFileSync(file, text);
  return file;
}

export const HEADER = 'mdmgen: 1\norganization: { name: Example Corp, identifier: com.example.im }\n';

export type Tagged =
  | { type: 'dict'; value: Record<string, Tagged> }
  | { type: 'array'; value: Tagged[] }
  | { type: 'string' | 'date' | 'data'; value: string }
  | { type: 'integer'; value: string }
  | { type: 'real'; value: number }
  | { type: 'bool'; value: boolean };

/** Every file loaded by CPython's plistlib, each value tagged with its plist type. */
export function readWithPlistlib(files: string[]): Record<string, Tagged | { error: string }> {
  const script = join(ROOT, 'test', 'helpers', 'plist_to_json.py');
  const result = spawnSync('python3', [script, ...files], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`plistlib helper failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, Tagged | { error: string }>;
}

export function loadWithPlistlib(file: string): Tagged {
  const loaded = readWithPlistlib([file])[file]!;
  if ('error' in loaded) throw new Error(`${file}: ${loaded.error}`);
  return loaded;
}

/** Every file below dir, relative, sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** path -> bytes (hex) of a whole tree, for byte-for-byte comparisons. */
export function snapshotTree(dir: string): Record<string, string> {
  return Object.fromEntries(listTree(dir).map((p) => [p, readFileSync(join(dir, p)).toString('hex')]));
}

/** Plain JS view of a tagged value (integers as bigint), for compact assertions. */
export function untag(value: Tagged): unknown {
  switch (value.type) {
    case 'dict': return Object.fromEntries(Object.entries(value.value).map(([k, v]) => [k, untag(v)]));
    case 'array': return value.value.map(untag);
    case 'integer': return BigInt(value.value);
    default: return value.value;
  }
}

/** The bundled example (fleet.yaml and its users.csv) in a fresh folder, optionally edited; returns fleet.yaml's path. */
export function exampleCopy(edit: (text: string) => string = (t) => t, dir = tempDir()): string {
  writeFileSync(join(dir, 'users.csv'), readFileSync(join(ROOT, 'examples', 'users.csv')));
  cpSync(join(ROOT, 'examples', 'vendor'), join(dir, 'vendor'), { recursive: true });
  return writeFleet(edit(readFileSync(EXAMPLE, 'utf8')), dir);
}

/** A tmpfs of this size mounted for the test (root only); undefined where mounting is not allowed. */
export function smallDisk(options: string): string | undefined {
  const dir = tempDir();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
  return mounted ? dir : undefined;
}

/** Whether smallDisk can mount (the full-disk tests run as root, as CI does, and are skipped otherwise). */
export const canMount = (() => {
  const probe = process.getuid?.() === 0 ? smallDisk('size=16k') : undefined;
  if (probe) spawnSync('umount', [probe]);
  return probe !== undefined;
})();
