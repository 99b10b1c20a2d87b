import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Artifact } from './plan.js';

export class OutputError extends Error {}

const TEMP = '.mdmgen-new-';
const OLD = '.mdmgen-old-';

/**
 * Writes a whole build atomically: into a sibling folder, then swapped in by rename, so a failed or killed
 * build leaves the previous output as it was. Refuses to replace a folder holding files no build wrote.
 */
export async function writeOutput(outDir: string, artifacts: readonly Artifact[], manifest: Buffer): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  const name = basename(target);
  await mkdir(parent, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    // mkdir -p answers EEXIST when a part of the path is a file.
    const why = error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : reason(error);
    throw new OutputError(`cannot create ${parent}: ${why}`);
  });
  await recover(parent, name, target);
  await refuseForeignFiles(target);

  const staging = join(parent, `${name}${TEMP}${process.pid}`);
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { mode: 0o755 });
    await writeAll(staging, artifacts);
    // The manifest goes last: a folder with a manifest is a complete build.
    await writeFile(join(staging, 'manifest.json'), manifest, { flag: 'wx', mode: 0o644 });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new OutputError(`cannot write the build: ${reason(error as NodeJS.ErrnoException)}`);
  }

  const previous = join(parent, `${name}${OLD}${process.pid}`);
  const hadPrevious = await exists(target);
  try {
    if (hadPrevious) await rename(target, previous);
    await rename(staging, target);
  } catch (error) {
    if (hadPrevious && !(await exists(target))) await rename(previous, target).catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    throw new OutputError(`cannot replace ${target}: ${reason(error as NodeJS.ErrnoException)}`);
  }
  if (hadPrevious) await rm(previous, { recursive: true, force: true });
}

/** A build killed part-way leaves a staging folder (removed here) or, between the two renames, the old output. */
async function recover(parent: string, name: string, target: string): Promise<void> {
  const leftovers = (await readdir(parent)).filter((entry) => entry.startsWith(`${name}${TEMP}`) || entry.startsWith(`${name}${OLD}`));
  for (const entry of leftovers.sort()) {
    const path = join(parent, entry);
    if (entry.startsWith(`${name}${OLD}`) && !(await exists(target))) await rename(path, target);
    else await rm(path, { recursive: true, force: true });
  }
}

async function refuseForeignFiles(target: string): Promise<void> {
  const stat = await lstat(target).catch(() => undefined);
  if (!stat) return;
  if (stat.isSymbolicLink()) return; // rename replaces the link itself; its target is never written
  if (!stat.isDirectory()) throw new OutputError(`${target} exists and is not a folder`);
  const entries = await listFiles(target);
  if (entries.length === 0) return;
  let listed: Set<string>;
  try {
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')) as { artifacts: { path: string }[] };
    listed = new Set(['manifest.json', ...manifest.artifacts.map((a) => a.path)]);
  } catch {
    throw new OutputError(`${target} is not an mdmgen output folder (no readable manifest.json); choose another folder with -o`);
  }
  const foreign = entries.filter((entry) => !listed.has(entry));
  if (foreign.length) {
    throw new OutputError(`${target} holds files no build wrote (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); move them away first`);
  }
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, relative)));
    else out.push(relative);
  }
  return out;
}

/**
 * Writes every file into the staging folder, several at a time so the disk is never idle. No fsync per
 * file: the guarantee a build gives is against a failed or killed process (the rename swap), not against
 * power loss, and 100,000 fsyncs would cost more than the build itself.
 */
async function writeAll(root: string, artifacts: readonly Artifact[]): Promise<void> {
  for (const { path } of artifacts) {
    // Names come from user data (group and user names): never let one resolve outside the folder.
    const full = resolve(root, ...path.split('/'));
    if (!full.startsWith(root + sep) || path.includes('\0')) throw new OutputError(`refusing to write ${JSON.stringify(path)} outside the output folder`);
  }
  const folders = new Set(artifacts.map((a) => dirname(join(root, ...a.path.split('/')))));
  for (const folder of [...folders].sort()) await mkdir(folder, { recursive: true, mode: 0o755 });
  let next = 0;
  const worker = async () => {
    while (next < artifacts.length) {
      const { path, bytes, mode = 0o644 } = artifacts[next++]!;
      await writeFile(join(root, ...path.split('/')), bytes, { flag: 'wx', mode });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, artifacts.length) }, worker));
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

function reason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOSPC': return 'the disk is full';
    case 'EROFS': return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'EEXIST': return 'the path already exists';
    default: return error.code ?? error.message;
  }
}
