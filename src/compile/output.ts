import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { systemReason } from '../diagnostics/system-error.js';
import type { Artifact } from './plan.js';

export class OutputError extends Error {}

const TEMP = '.mdmgen-new-';
const OLD = '.mdmgen-old-';
const LOCK = '.mdmgen-lock';
const MANIFEST_PART = '.manifest.json.part';

/** The folder a build is written into before it replaces the output. */
export interface Stage {
  /** Writes one file, now. */
  write(path: string, bytes: Uint8Array, mode?: 0o644 | 0o755): void;
  /** Appends to manifest.json, which appears under its name once everything else is written. */
  manifest(text: string): void;
}

/** Writes a whole build held in memory; see writeOutputWith. */
export async function writeOutput(outDir: string, artifacts: readonly Artifact[], manifest: Buffer): Promise<void> {
  await writeOutputWith(outDir, async (stage) => {
    for (const { path, bytes, mode } of artifacts) stage.write(path, bytes, mode);
    stage.manifest(manifest.toString());
  });
}

/**
 * Writes a build atomically: `fill` writes it into a sibling folder, which is then swapped in by rename, so
 * a failed or killed build leaves the previous output as it was. Refuses to replace a folder holding files
 * no build wrote.
 */
export async function writeOutputWith(outDir: string, fill: (stage: Stage) => Promise<void>): Promise<void> {
  const target = resolve(outDir);
  const parent = dirname(target);
  const name = basename(target);
  await mkdir(parent, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    // mkdir -p answers EEXIST when a part of the path is a file.
    const why = error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : systemReason(error);
    throw new OutputError(`cannot create ${parent}: ${why}`);
  });
  const lock = join(parent, `${name}${LOCK}`);
  await takeLock(lock, target);
  try {
    await writeLocked(parent, name, target, fill);
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Takes the output folder for this process. Two builds of one folder at once would each remove the other's
 * staging folder as a leftover, and swap in a build the other had half removed (eight builds of the example
 * at once left a manifest.json most of whose files were gone). A lock whose process is gone (killed, or
 * crashed) is taken over. The lock is created exclusively (O_EXCL, which file shares honour too).
 */
async function takeLock(lock: string, target: string): Promise<void> {
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await lockHolder(lock);
      if (attempt > 0 || isRunning(holder)) {
        throw new OutputError(`another mdmgen build (process ${holder || 'unknown'}) is writing ${target}; build one output folder at a time (if none runs, remove ${lock})`);
      }
      await rm(lock, { force: true });
    }
  } catch (error) {
    if (error instanceof OutputError || !(error as NodeJS.ErrnoException).code) throw error;
    throw new OutputError(`cannot lock ${target} for this build: ${systemReason(error)}`);
  }
}

/** The process id a lock holds. A lock is empty for the moment between its creation and its write, so an empty one is read again. */
async function lockHolder(lock: string): Promise<number> {
  for (let tries = 0; tries < 5; tries++) {
    const text = (await readFile(lock, 'utf8').catch(() => '')).trim();
    if (text) return Number(text);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return 0;
}

/** Whether a process of this id runs: this one, or one signal 0 reaches (EPERM: it runs as another user). */
function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function writeLocked(parent: string, name: string, target: string, fill: (stage: Stage) => Promise<void>): Promise<void> {
  try {
    await recover(parent, name, target);
    await refuseForeignFiles(target);
  } catch (error) {
    if (error instanceof OutputError || !(error as NodeJS.ErrnoException).code) throw error;
    throw new OutputError(`cannot look into ${(error as NodeJS.ErrnoException).path ?? target}: ${systemReason(error)}`);
  }

  const staging = join(parent, `${name}${TEMP}${process.pid}`);
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { mode: 0o755 });
    const stage = new StagingFolder(staging);
    try {
      await fill(stage);
    } finally {
      stage.close();
    }
    // The manifest goes last: a folder with a manifest is a complete build.
    renameSync(join(staging, MANIFEST_PART), join(staging, 'manifest.json'));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (error instanceof OutputError || !(error as NodeJS.ErrnoException).code) throw error;
    throw new OutputError(`cannot write the build: ${systemReason(error)}`);
  }

  const previous = join(parent, `${name}${OLD}${process.pid}`);
  const hadPrevious = await exists(target);
  try {
    if (hadPrevious) await rename(target, previous);
    await rename(staging, target);
  } catch (error) {
    if (hadPrevious && !(await exists(target))) await rename(previous, target).catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    throw new OutputError(`cannot replace ${target}: ${systemReason(error)}`);
  }
  if (hadPrevious) await rm(previous, { recursive: true, force: true });
}

/**
 * Undoes what this process's build of `outDir` left when it was stopped part-way (by a signal, between
 * two of its steps): the staging folder is removed, and a previous output moved aside is put back, or
 * removed if the new one is already in its place, and the lock is let go. Says whether the output folder is
 * as it was before.
 */
export async function abandonOutput(outDir: string): Promise<boolean> {
  const target = resolve(outDir);
  const staging = join(dirname(target), `${basename(target)}${TEMP}${process.pid}`);
  const previous = join(dirname(target), `${basename(target)}${OLD}${process.pid}`);
  let untouched = await exists(staging);
  await rm(staging, { recursive: true, force: true });
  if (await exists(previous)) {
    untouched = !(await exists(target));
    if (untouched) await rename(previous, target);
    else await rm(previous, { recursive: true, force: true });
  }
  const lock = join(dirname(target), `${basename(target)}${LOCK}`);
  if ((await readFile(lock, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(lock, { force: true });
  return untouched;
}

/**
 * A build killed part-way leaves a staging folder (removed here) or, between the two renames, the old output;
 * with the lock held, no build that runs has any of them.
 */
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
  if ((await readdir(target)).length === 0) return;
  // The manifest is asked for before anything is walked: `-o ~` or `-o /` must be refused at once, not after
  // listing every file below it.
  let listed: Set<string>;
  try {
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')) as { artifacts: { path: string }[] };
    listed = new Set(['manifest.json', ...manifest.artifacts.map((a) => a.path)]);
  } catch {
    throw new OutputError(`${target} is not an mdmgen output folder (no readable manifest.json); choose another folder with -o`);
  }
  const foreign = (await listFiles(target)).filter((entry) => !listed.has(entry));
  if (foreign.length) {
    throw new OutputError(`${target} holds files no build wrote (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); move them away first`);
  }
}

/** Every file under root, into one list: a folder's files spread into push would be arguments on the stack, too many for 200,000 users. */
async function listFiles(root: string, prefix = '', out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await listFiles(root, relative, out);
    else out.push(relative);
  }
  return out;
}

/**
 * Files are written one at a time with synchronous calls, from one thread. Creating files is the file
 * system's work, done under the folder's lock: on ext4, two threads creating files in one folder were
 * measured at 2.5 to 5 times the kernel time of one thread (npm run bench). No fsync per file: the
 * guarantee a build gives is against a failed or killed process (the rename swap), not against power
 * loss, and 100,000 fsyncs would cost more than the build itself.
 */
class StagingFolder implements Stage {
  private readonly root: string;
  private readonly folders = new Set<string>();
  private manifestFd: number | undefined;
  private manifestText = '';

  constructor(root: string) {
    this.root = root;
  }

  write(path: string, bytes: Uint8Array, mode: 0o644 | 0o755 = 0o644): void {
    // Names come from user data (group and user names): never let one lead outside the folder. Checked by
    // segment rather than with path.resolve, which costs more than the write on a 100,000-file build.
    const segments = path.split('/');
    if (path === MANIFEST_PART || path.includes('\0') || path.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw new OutputError(`refusing to write ${JSON.stringify(path)} outside the output folder`);
    }
    const full = join(this.root, path);
    const folder = dirname(full);
    if (!this.folders.has(folder)) {
      mkdirSync(folder, { recursive: true, mode: 0o755 });
      this.folders.add(folder);
    }
    const fd = openSync(full, 'wx', mode);
    try {
      writeAll(fd, bytes);
    } finally {
      closeSync(fd);
    }
  }

  manifest(text: string): void {
    this.manifestText += text;
    if (this.manifestText.length >= 1 << 16) this.flushManifest();
  }

  close(): void {
    this.flushManifest();
    if (this.manifestFd !== undefined) closeSync(this.manifestFd);
    this.manifestFd = undefined;
  }

  private flushManifest(): void {
    this.manifestFd ??= openSync(join(this.root, MANIFEST_PART), 'wx', 0o644);
    writeAll(this.manifestFd, Buffer.from(this.manifestText));
    this.manifestText = '';
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

