import { createGunzip } from 'node:zlib';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import yauzl from 'yauzl';

/** Preference files are kilobytes: anything bigger than this is reported, never read into memory. */
export const MAX_PULLED_BYTES = 16 * 1024 * 1024;

export interface Pulled {
  file: string;
  host: string | null;
  user: string | null;
  /** The bytes, or why they were not read (too large, unreadable). */
  bytes: Buffer | { problem: string };
}

/**
 * Host and user from where the file was found: <host>/Users/<user>/Library/Preferences/... or
 * <host>/<user>/... (the spec's two layouts), relative to the PATH argument.
 */
export function whoFrom(relativePath: string): { host: string | null; user: string | null } {
  const parts = relativePath.split('/').filter(Boolean);
  const users = parts.indexOf('Users');
  if (users >= 0 && parts.length > users + 2) return { host: users > 0 ? parts[users - 1]! : null, user: parts[users + 1]! };
  if (parts.length >= 3) return { host: parts[0]!, user: parts[1]! };
  return { host: null, user: null };
}

/**
 * Every file under the PATH arguments: files, folders (recursively, not following symlinks: a pull is
 * untrusted) and .zip / .tar.gz archives of pulls. `wanted` says which paths are worth reading.
 */
export async function collectPulled(cwd: string, paths: readonly string[], wanted: (path: string) => boolean): Promise<{ files: Pulled[]; missing: string[] }> {
  const files: Pulled[] = [];
  const missing: string[] = [];
  for (const arg of paths) {
    const absolute = resolve(cwd, arg);
    const info = await lstat(absolute).catch(() => undefined);
    if (!info) {
      missing.push(arg);
    } else if (info.isDirectory()) {
      await walk(absolute, async (path, size) => {
        const rel = relative(absolute, path).split('\\').join('/');
        if (wanted(rel)) files.push({ file: join(arg, rel), ...whoFrom(rel), bytes: await readCapped(path, size) });
      });
    } else if (/\.zip$/i.test(arg)) {
      files.push(...(await readZip(arg, await readFile(absolute), wanted)));
    } else if (/\.(tar\.gz|tgz)$/i.test(arg)) {
      files.push(...(await readTar(arg, await readFile(absolute), wanted)));
    } else if (info.isFile()) {
      files.push({ file: arg, ...whoFrom(arg.split('\\').join('/')), bytes: await readCapped(absolute, info.size) });
    }
  }
  files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { files, missing };
}

async function walk(dir: string, visit: (path: string, size: number) => Promise<void>): Promise<void> {
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, visit);
    else if (entry.isFile()) await visit(path, (await lstat(path)).size);
  }
}

async function readCapped(path: string, size: number): Promise<Buffer | { problem: string }> {
  if (size > MAX_PULLED_BYTES) return { problem: `${size} bytes is more than the ${MAX_PULLED_BYTES} a preference file may have` };
  return readFile(path).catch((error: NodeJS.ErrnoException) => ({ problem: `cannot read it (${error.code ?? 'error'})` }));
}

function readZip(arg: string, zip: Buffer, wanted: (path: string) => boolean): Promise<Pulled[]> {
  return new Promise((resolvePromise, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true }, (error, archive) => {
      if (error || !archive) return reject(new Error(`${arg}: not a readable zip archive (${error?.message ?? 'unknown'})`));
      const files: Pulled[] = [];
      archive.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (name.endsWith('/') || !wanted(name)) return archive.readEntry();
        const base = { file: `${arg}!/${name}`, ...whoFrom(name) };
        // Checked against the header before anything is inflated; yauzl also stops at the declared size.
        if (entry.uncompressedSize > MAX_PULLED_BYTES) {
          files.push({ ...base, bytes: { problem: `${entry.uncompressedSize} bytes is more than the ${MAX_PULLED_BYTES} a preference file may have` } });
          return archive.readEntry();
        }
        archive.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) {
            files.push({ ...base, bytes: { problem: `cannot be extracted (${streamError?.message ?? 'unknown'})` } });
            return archive.readEntry();
          }
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (e) => {
            files.push({ ...base, bytes: { problem: `cannot be extracted (${e.message})` } });
            archive.readEntry();
          });
          stream.on('end', () => {
            files.push({ ...base, bytes: Buffer.concat(chunks) });
            archive.readEntry();
          });
        });
      });
      archive.on('end', () => resolvePromise(files));
      archive.on('error', (e: Error) => reject(new Error(`${arg}: ${e.message}`)));
      archive.readEntry();
    });
  });
}

function readTar(arg: string, tgz: Buffer, wanted: (path: string) => boolean): Promise<Pulled[]> {
  return new Promise((resolvePromise, reject) => {
    const files: Pulled[] = [];
    const tar = extract();
    tar.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      const base = { file: `${arg}!/${name}`, ...whoFrom(name) };
      if (header.type !== 'file' || !wanted(name)) {
        stream.resume();
        return stream.on('end', next);
      }
      if ((header.size ?? 0) > MAX_PULLED_BYTES) {
        files.push({ ...base, bytes: { problem: `${header.size} bytes is more than the ${MAX_PULLED_BYTES} a preference file may have` } });
        stream.resume();
        return stream.on('end', next);
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.push({ ...base, bytes: Buffer.concat(chunks) });
        next();
      });
    });
    tar.on('finish', () => resolvePromise(files));
    tar.on('error', (e: Error) => reject(new Error(`${arg}: not a readable tar.gz archive (${e.message})`)));
    const gunzip = createGunzip();
    gunzip.on('error', (e: Error) => reject(new Error(`${arg}: not a readable tar.gz archive (${e.message})`)));
    Readable.from([tgz]).pipe(gunzip).pipe(tar);
  });
}

