import { closeSync, existsSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';

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

/** The PATH arguments that do not exist. */
export function missingPaths(cwd: string, paths: readonly string[]): string[] {
  return paths.filter((arg) => !existsSync(resolve(cwd, arg)));
}

/**
 * Every file under the PATH arguments, one at a time, so memory does not grow with the fleet: files,
 * folders (recursively, not following symlinks: a pull is untrusted) and .zip / .tar.gz archives of pulls.
 * Folders are read with synchronous calls: for thousands of small files, a round trip through the thread
 * pool per call costs more than the read itself. `wanted` says which paths are worth reading.
 */
export async function* pulledFiles(cwd: string, paths: readonly string[], wanted: (path: string) => boolean): AsyncGenerator<Pulled> {
  for (const arg of paths) {
    const absolute = resolve(cwd, arg);
    const info = lstatSync(absolute, { throwIfNoEntry: false });
    if (!info) continue;
    if (info.isDirectory()) {
      for (const path of walk(absolute)) {
        const rel = relative(absolute, path).split('\\').join('/');
        if (wanted(rel)) yield { file: join(arg, rel), ...whoFrom(rel), bytes: readCapped(path) };
      }
    } else if (/\.zip$/i.test(arg)) {
      yield* await readZip(arg, readFileSync(absolute), wanted);
    } else if (/\.(tar\.gz|tgz)$/i.test(arg)) {
      yield* await readTar(arg, readFileSync(absolute), wanted);
    } else if (info.isFile()) {
      yield { file: arg, ...whoFrom(arg.split('\\').join('/')), bytes: readCapped(absolute) };
    }
  }
}

function* walk(dir: string): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

/** Opens once, checks the size before allocating, reads exactly that many bytes. */
function readCapped(path: string): Buffer | { problem: string } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size > MAX_PULLED_BYTES) return { problem: `${size} bytes is more than the ${MAX_PULLED_BYTES} a preference file may have` };
    const bytes = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === size ? bytes : bytes.subarray(0, read);
  } catch (error) {
    return { problem: `cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readZip(arg: string, zip: Buffer, wanted: (path: string) => boolean): Promise<Pulled[]> {
  const { default: yauzl } = await import('yauzl');
  return new Promise((resolvePromise, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true }, (error, archive) => {
      if (error || !archive) return reject(new Error(`${arg}: not a readable zip archive (${error?.message ?? 'unknown'})`));
      const files: Pulled[] = [];
      archive.on('entry', (entry: import('yauzl').Entry) => {
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

async function readTar(arg: string, tgz: Buffer, wanted: (path: string) => boolean): Promise<Pulled[]> {
  const { extract } = await import('tar-stream');
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

