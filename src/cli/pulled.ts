import { closeSync, constants, createReadStream, existsSync, fstatSync, opendirSync, openSync, readdirSync, readSync, realpathSync, statSync, type Dirent } from 'node:fs';
import * as zlib from 'node:zlib';
import { basename, dirname, join, resolve } from 'node:path';
import { TarError, TarReader } from './tar.js';
import type { Progress } from './progress.js';
import type { Finding } from '../audit/audit.js';
import { CODES, type Code } from '../diagnostics/diagnostic.js';
import { systemReason } from '../diagnostics/system-error.js';

/** Preference files are kilobytes: anything bigger than this is reported, never read into memory. */
export const MAX_PULLED_BYTES = 16 * 1024 * 1024;

/**
 * How a file is opened. A PATH is the admin's own: a symlink given is followed. A file found in a pull is
 * not, and a pull is untrusted and may change under the walk: a file listed as regular is opened without
 * following a link put in its place, and without waiting for a FIFO's writer.
 */
export const AS_GIVEN = constants.O_RDONLY;
export const IN_PULL = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** What IN_PULL's refusals mean: a link put in a file's place is refused, not followed; a FIFO cannot be read at an offset. */
const IN_PULL_WORDS = { ELOOP: 'it is a symbolic link, which the audit does not follow', ESPIPE: 'not a regular file' };

export interface Pulled {
  file: string;
  host: string | null;
  user: string | null;
  domain: string;
  /** The bytes, or why they were not read (too large, unreadable). */
  bytes: Buffer | { problem: string };
}

/**
 * Host and user from where the file was found: <host>/Users/<user>/Library/Preferences/... or
 * <host>/<user>/... (the spec's two layouts), relative to the PATH argument; and the files macOS keeps for
 * installed profiles, <host>/Library/Managed Preferences/<user>/... (a user's) or .../Managed Preferences/
 * itself (the computer's: no user). A path that starts at Users/ or Library/ is under a PATH that is one
 * Mac's own folder, `top`, which names the host.
 */
export function whoFrom(relativePath: string, top: string | null = null): { host: string | null; user: string | null } {
  let parts = relativePath.split('/');
  if (parts.includes('')) parts = parts.filter(Boolean);
  if (top === 'Managed Preferences') return { host: null, user: parts.length >= 2 ? parts[0]! : null };
  const managed = parts.indexOf('Managed Preferences');
  if (managed >= 1 && parts[managed - 1] === 'Library') {
    return { host: managed >= 2 ? parts[managed - 2]! : top, user: parts.length > managed + 2 ? parts[managed + 1]! : null };
  }
  const users = parts.indexOf('Users');
  if (users >= 0 && parts.length > users + 2) return { host: users > 0 ? parts[users - 1]! : top, user: parts[users + 1]! };
  if (parts.length >= 3) return { host: parts[0]!, user: parts[1]! };
  return { host: null, user: null };
}

/** The PATH arguments that do not exist. */
export function missingPaths(cwd: string, paths: readonly string[]): string[] {
  return paths.filter((arg) => !existsSync(resolve(cwd, arg)));
}

/**
 * The PATHs another one covers, each with the first that does: the same file or folder given again, or
 * anything inside a folder also given (`pulls pulls/MAC-0217`, or a glob that matched both), so that each
 * plist is audited, and counted, once. PATHs are compared as the system resolves them (symlinks followed).
 */
export function coveredPaths(cwd: string, paths: readonly string[]): Map<number, { by: string; same: boolean }> {
  const real = (arg: string) => {
    try {
      return realpathSync.native(resolve(cwd, arg));
    } catch {
      return resolve(cwd, arg);
    }
  };
  const resolved = paths.map(real);
  const firstAt = new Map<string, number>();
  const folders = new Map<string, string>();
  resolved.forEach((path, i) => {
    if (firstAt.has(path)) return;
    firstAt.set(path, i);
    if (isFolder(path)) folders.set(path, paths[i]!);
  });
  const covered = new Map<number, { by: string; same: boolean }>();
  resolved.forEach((path, i) => {
    // The outermost folder given, which nothing covers.
    let outer: string | undefined;
    for (let up = path, parent = dirname(up); parent !== up; up = parent, parent = dirname(up)) outer = folders.get(parent) ?? outer;
    const first = firstAt.get(path)!;
    if (outer !== undefined) covered.set(i, { by: outer, same: false });
    else if (first !== i) covered.set(i, { by: paths[first]!, same: true });
  });
  return covered;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Calls `visit` with the files of an archive (.zip, .tar.gz, .tar) or a single file given as a PATH argument, each
 * as it is read; folders are read by frontier and walkFiles. `domainOf` says which paths are worth reading:
 * those of a domain the audit knows.
 */
export async function pulledFiles(cwd: string, arg: string, domainOf: DomainOf, visit: (pulled: Pulled) => void, track: Track = () => quiet, flags = AS_GIVEN): Promise<void> {
  const absolute = resolve(cwd, arg);
  if (isZip(arg)) return readZip(arg, await ZipArchive.open(absolute, flags), domainOf, visit, track);
  if (isTar(arg)) return readTar(arg, absolute, flags, domainOf, visit, track);
  const path = arg.split('\\').join('/');
  const domain = domainOf(path);
  if (domain !== undefined && statSync(absolute).isFile()) visit({ file: arg, ...whoFrom(path), domain, bytes: readCapped(absolute, flags) });
}

/** An archive's file, open, or an ArchiveError saying why not (gone, a link or a FIFO in a pull, no permission). */
function openArchive(path: string, flags: number): { fd: number; size: number } {
  let fd: number | undefined;
  try {
    fd = openSync(path, flags);
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ArchiveError('not a regular file');
    return { fd, size: stats.size };
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(`cannot read it (${systemReason(error, flags & constants.O_NOFOLLOW ? IN_PULL_WORDS : {})})`);
  }
}

export type DomainOf = (path: string) => string | undefined;

/** Starts a progress bar of `total` units of `what`: an archive's entries, or its kilobytes when they are not counted up front. */
export type Track = (what: string, total: number) => Progress;
const quiet: Progress = { update: () => undefined, finish: () => undefined };

/** An archive that cannot be read to its end: the files before the fault have been visited. */
export class ArchiveError extends Error {}

export const isZip = (arg: string) => /\.zip$/i.test(arg);
export const isArchive = (arg: string) => isZip(arg) || isTar(arg);
const isTar = (arg: string) => /\.(tar\.gz|tgz|tar)$/i.test(arg);

/**
 * The top of a folder, opened breadth-first until it holds at least `units` folders to share out among
 * threads (or nothing is left to open); paths relative to `root`, '/'-separated.
 */
export function frontier(root: string, units: number, unlisted: Unlisted): { dirs: string[]; files: string[] } {
  let dirs = [''];
  const files: string[] = [];
  while (dirs.length > 0 && dirs.length < units) {
    const next: string[] = [];
    for (const dir of dirs) {
      // One entry at a time: listed whole, as Dirents, a 100,000-Mac pull took the main thread's heap to 48 MB
      // (31 MB this way) in a run with V8's default heap sizes.
      listing(dir, unlisted, () => {
        const folder = opendirSync(join(root, dir));
        try {
          for (let entry; (entry = folder.readSync()) !== null; ) {
            const rel = dir ? `${dir}/${entry.name}` : entry.name;
            if (entry.isDirectory()) next.push(rel);
            else if (entry.isFile()) files.push(rel);
          }
        } finally {
          folder.closeSync();
        }
      });
    }
    dirs = next.sort();
  }
  return { dirs, files: files.sort() };
}

/**
 * Calls `visit` with every file under root/dir, relative to root, not following symlinks (a pull is
 * untrusted). `root` is absolute and the names come from readdir, so plain concatenation is a valid path.
 */
export function walkFiles(root: string, dir: string, visit: (rel: string) => void, unlisted: Unlisted): void {
  let entries: Dirent[] = [];
  listing(dir, unlisted, () => (entries = readdirSync(dir ? `${root}/${dir}` : root, { withFileTypes: true })));
  for (const entry of entries) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) walkFiles(root, rel, visit, unlisted);
    else if (entry.isFile()) visit(rel);
  }
}

/**
 * Told of each folder of a pull that cannot be listed: no permission, a path longer than the system allows
 * (a pull copied from a deeper tree), gone since its parent was listed. The walk goes on without it.
 */
export type Unlisted = (dir: string, code: string) => void;

function listing(dir: string, unlisted: Unlisted, list: () => void): void {
  try {
    list();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    unlisted(dir, code);
  }
}

/** A finding about a PATH argument, or a folder under it, as a whole. */
export function pathFinding(file: string, code: Code, message: string, who: { host: string | null; user: string | null } = { host: null, user: null }): Finding {
  return {
    code, severity: CODES[code], message, file, ...who,
    group: null, domain: null, key: null, expected: null, actual: null, policy: null,
  };
}

/**
 * The finding for a folder `dir` under the PATH `arg` (resolved as the absolute `root`) that cannot be
 * listed, under the host and user a plist in it would have.
 */
export function unlistedFinding(root: string, arg: string, dir: string, code: string): Finding {
  return pathFinding(dir ? join(arg, dir) : arg, 'audit/unreadable', `cannot list this folder (${why(code, dir)}); the plists in it, if any, are not audited`, whoFrom(`${dir}/-`, basename(root) || null));
}

/**
 * Node reads names as UTF-8, so a name that is not (a Mac writes none, a broken copy can) comes back with
 * U+FFFD in it and names no file: ENOENT, which would say the file is gone.
 */
const why = (code: string, rel: string) => (code === 'ENOENT' && rel.includes('\ufffd') ? 'its name is not UTF-8; rename it' : systemReason({ code }));

/** A pulled file under a folder given as `arg` (resolved as the absolute `root`), by its path relative to it. */
export function readPulled(root: string, arg: string, rel: string, domain: string): Pulled {
  const folder = pulledFolder(root, arg);
  // Opened without blocking, a FIFO put in the file's place refuses the read (ESPIPE).
  return { file: folder.prefix + rel, ...whoFrom(rel, folder.top), domain, bytes: readCapped(`${root}/${rel}`, IN_PULL) };
}

/**
 * What join(arg, rel) starts with and the host a folder's name may be, for the files of one walk in turn:
 * a walk's names hold no '.', '..' or empty parts, so only `arg` needs normalising, once (path.join did it
 * again for each plist's whole path: 0.7 of the 7.4 µs reading one took).
 */
let folder = { root: '', arg: '', prefix: '', top: null as string | null };
function pulledFolder(root: string, arg: string): typeof folder {
  if (folder.root !== root || folder.arg !== arg) folder = { root, arg, prefix: join(arg, '-').slice(0, -1), top: basename(root) || null };
  return folder;
}

const scratch = Buffer.allocUnsafe(64 * 1024);

const tooLarge = (size: number, what = 'bytes') => ({ problem: `${size} ${what} is more than the ${MAX_PULLED_BYTES} a preference file may have` });

/**
 * Opens once and reads; a file that fills the first 64 KB (preferences are a few hundred bytes) has its
 * size checked before anything is allocated for it, and is then read exactly.
 */
function readCapped(path: string, flags: number): Buffer | { problem: string } {
  let fd: number | undefined;
  try {
    fd = openSync(path, flags);
    const first = readSync(fd, scratch, 0, scratch.length, 0);
    if (first < scratch.length) return Buffer.from(scratch.subarray(0, first));
    const { size } = fstatSync(fd);
    if (size > MAX_PULLED_BYTES) return tooLarge(size);
    const bytes = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === size ? bytes : bytes.subarray(0, read);
  } catch (error) {
    return { problem: `cannot read it (${systemReason(error, IN_PULL_WORDS)})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a zip of pulls opened by ZipArchive.open on this thread, each plist as it comes out, and closes it. */
export async function readZip(arg: string, zip: ZipArchive, domainOf: DomainOf, visit: (pulled: Pulled) => void, track: Track): Promise<void> {
  const bar = track(`entries of ${arg}`, zip.entryCount);
  try {
    let seen = 0;
    for (const record of zip.records()) {
      bar.update(++seen);
      const domain = record && zipDomain(record, domainOf);
      if (domain !== undefined) visit(zip.entries.read(arg, record!, domain));
    }
  } finally {
    bar.finish();
    zip.close();
  }
}

/** The domain of a record's plist, or undefined when it is a folder or not an audited plist. */
export const zipDomain = (record: ZipRecord, domainOf: DomainOf) => (record.name.endsWith('/') ? undefined : domainOf(record.name));

/**
 * A zip's entries, read through a window of the file its ZipArchive opened: what a thread needs to audit a
 * share of a zip (a file descriptor is the process's, so a thread reads the zip the main thread opened,
 * never a file put in its place since).
 */
export class ZipEntries {
  private readonly size: number;
  private readonly window: FileWindow;

  constructor(fd: number) {
    this.size = fstatSync(fd).size;
    this.window = new FileWindow(fd, this.size);
  }

  /** A record's entry, as a pulled plist of `domain` in the archive given as `arg`. */
  read(arg: string, record: ZipRecord, domain: string): Pulled {
    return inArchive(arg, record.name, domain, zipEntryBytes(this.window, this.size, record));
  }
}

/**
 * A zip of pulls, open. yauzl finds the central directory (through the zip64 end records when there are
 * any), `records` reads it, and each entry's bytes are read and inflated in one synchronous call, all from
 * the file through two windows (the directory is at the end of the file, the entries before it). Held
 * whole, a 100,000-Mac zip (219 MB) took the audit to 293 MB; and yauzl's own stream per entry left it
 * waiting on zlib's thread pool and its garbage collector: 8.9 s for 20,000 plists, 4.3 s of it idle and
 * 1.6 s collecting.
 */
export class ZipArchive {
  readonly entries: ZipEntries;
  readonly entryCount: number;
  /** The zip's file, open until close(): the threads that audit its shares read it too. */
  readonly fd: number;
  private readonly yauzl: Yauzl;
  private readonly directory: FileWindow;
  private readonly start: number;

  private constructor(yauzl: Yauzl, fd: number, directory: FileWindow, entryCount: number, start: number) {
    this.yauzl = yauzl;
    this.fd = fd;
    this.directory = directory;
    this.entryCount = entryCount;
    this.start = start;
    this.entries = new ZipEntries(fd);
  }

  /** Opens a zip with `flags` (AS_GIVEN for a PATH, IN_PULL for a zip found in a pull). */
  static async open(path: string, flags = AS_GIVEN): Promise<ZipArchive> {
    const yauzl = (await import('yauzl')).default;
    const { fd, size } = openArchive(path, flags);
    try {
      const directory = new FileWindow(fd, size);
      class FileReader extends yauzl.RandomAccessReader {
        override _readStreamForRange(): never {
          throw new Error('entries are read by ZipEntries, not streamed');
        }
        override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
          let bytesRead: number;
          try {
            bytesRead = directory.read(position, length).copy(buffer, offset);
          } catch (error) {
            return void process.nextTick(callback, error as Error);
          }
          process.nextTick(callback, null, bytesRead);
        }
      }
      const zip = await new Promise<import('yauzl').ZipFile>((resolvePromise, reject) => {
        yauzl.fromRandomAccessReader(new FileReader(), size, { lazyEntries: true, decodeStrings: false }, (error, opened) => {
          if (error || !opened) reject(new ArchiveError(`not a readable zip archive (${error?.message ?? 'unknown'})`));
          else resolvePromise(opened);
        });
      });
      // readEntryCursor is where the directory starts (a number, though @types/yauzl has it a boolean).
      return new ZipArchive(yauzl, fd, directory, zip.entryCount, zip.readEntryCursor as unknown as number);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /**
   * Each central directory record (APPNOTE 4.3.12), or undefined for one whose name cannot be an audited
   * plist (it does not end in `.plist`). Read here rather than by yauzl, whose record loop costs about
   * 4 µs a record, half of it garbage and names decoded from code page 437 a character at a time: 3.3 to
   * 3.7 s of a 100,000-Mac zip's 7 to 8.5 s, where 600,000 of the 800,000 records are folders. Names and
   * extra fields are still decoded by yauzl's own functions.
   */
  *records(): Generator<ZipRecord | undefined> {
    const { yauzl, directory, entryCount: count } = this;
    let at = this.start;
    for (let i = 0; i < count; i++) {
      const fixed = directory.read(at, 46);
      if (fixed.length < 46 || fixed.readUInt32LE(0) !== 0x02014b50) throw new ArchiveError(`not a readable zip archive (no central directory record ${i + 1} of ${count} at byte ${at})`);
      const flags = fixed.readUInt16LE(8);
      const method = fixed.readUInt16LE(10);
      const crc = fixed.readUInt32LE(16);
      let compressedSize = fixed.readUInt32LE(20);
      let uncompressedSize = fixed.readUInt32LE(24);
      const nameLength = fixed.readUInt16LE(28);
      const extraLength = fixed.readUInt16LE(30);
      const next = at + 46 + nameLength + extraLength + fixed.readUInt16LE(32);
      let localHeader = fixed.readUInt32LE(42);
      // `fixed` is a view of the window, which this read may move: every field of it is read above.
      const variable = directory.read(at + 46, nameLength + extraLength);
      if (variable.length < nameLength + extraLength) throw new ArchiveError(`not a readable zip archive (central directory record ${i + 1} of ${count} runs past the end)`);
      at = next;
      const nameRaw = variable.subarray(0, nameLength);
      const extraRaw = variable.subarray(nameLength);
      // An Info-ZIP Unicode Path field (0x7075) may name the entry instead: only then must extra fields be read first.
      if (!nameRaw.subarray(-PLIST_SUFFIX.length).equals(PLIST_SUFFIX) && !hasExtraField(extraRaw, 0x7075)) {
        yield undefined;
        continue;
      }
      let extraFields: ReturnType<typeof yauzl.parseExtraFields>;
      try {
        extraFields = yauzl.parseExtraFields(extraRaw);
      } catch (error) {
        // Its only fault: a field that claims more bytes than the record's extra field holds.
        throw new ArchiveError(`not a readable zip archive (central directory record ${i + 1} of ${count}: ${(error as Error).message})`);
      }
      const zip64 = extraFields.find((field) => field.id === 0x0001)?.data;
      if (zip64) {
        // APPNOTE 4.5.3: only the fields that hold 0xffffffff are in it, in this order.
        let k = 0;
        const wide = (value: number) => (value === 0xffffffff && k + 8 <= zip64.length ? Number(zip64.readBigUInt64LE((k += 8) - 8)) : value);
        uncompressedSize = wide(uncompressedSize);
        compressedSize = wide(compressedSize);
        localHeader = wide(localHeader);
      }
      // The name is a string before the generator yields, and the window moves only when it resumes.
      yield { name: zipName(yauzl, flags, nameRaw, extraFields), flags, method, crc, compressedSize, uncompressedSize, localHeader };
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** What the audit uses of a central directory record. */
export interface ZipRecord {
  name: string;
  flags: number;
  method: number;
  /** The CRC-32 of the uncompressed bytes. */
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeader: number;
}

const PLIST_SUFFIX = Buffer.from('.plist');
const UTF8 = new TextDecoder('utf-8', { fatal: true });

type Yauzl = typeof import('yauzl');

/**
 * An entry's name. Without the UTF-8 flag (bit 11) or an Info-ZIP Unicode Path field, the zip format says
 * code page 437, which yauzl follows; but a Mac's Archive Utility and ditto write UTF-8 names and no flag,
 * so a name that is valid UTF-8 beyond ASCII is read as UTF-8, as ZIPFoundation, 7-Zip and The Unarchiver
 * do (a code page 437 name is almost never valid UTF-8: it would take a box-drawing character followed by
 * an accented letter). Printable ASCII reads the same every way.
 */
function zipName(yauzl: Yauzl, flags: number, raw: Buffer, extraFields: ReturnType<Yauzl['parseExtraFields']>): string {
  if ((flags & 0x800) === 0 && !extraFields.some((field) => field.id === 0x7075)) {
    let high = false;
    let control = false;
    for (let i = 0; i < raw.length; i++) {
      const byte = raw[i]!;
      if (byte >= 0x80) high = true;
      else if (byte < 0x20 || byte === 0x7f) control = true;
    }
    // yauzl, not strict, also reads a backslash as a slash.
    if (!high && !control) return raw.toString('latin1').replaceAll('\\', '/');
    if (high) {
      try {
        return UTF8.decode(raw).replaceAll('\\', '/');
      } catch {
        // Not UTF-8: code page 437 it is.
      }
    }
  }
  return yauzl.getFileNameLowLevel(flags, raw, extraFields, false);
}

function hasExtraField(extra: Buffer, id: number): boolean {
  for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) if (extra.readUInt16LE(i) === id) return true;
  return false;
}

/** An entry's bytes, checked against the sizes its central directory record declares before anything is inflated. */
function zipEntryBytes(file: FileWindow, size: number, entry: ZipRecord): Buffer | { problem: string } {
  const cannot = (why: string) => ({ problem: `cannot be extracted (${why})` });
  if (entry.uncompressedSize > MAX_PULLED_BYTES) return tooLarge(entry.uncompressedSize);
  // Bit 0: encrypted; bit 6: strong encryption (APPNOTE 4.4.4).
  if (entry.flags & 0x41) return cannot('it is encrypted');
  if (entry.method !== 0 && entry.method !== 8) return cannot(`unsupported compression method ${entry.method}`);
  if (entry.compressedSize > MAX_PULLED_BYTES) return tooLarge(entry.compressedSize, 'compressed bytes');
  // The local header (APPNOTE 4.3.7): its own name and extra field lengths say where the data starts.
  const at = entry.localHeader;
  const header = file.read(at, 30);
  if (header.length !== 30 || header.readUInt32LE(0) !== 0x04034b50) return cannot('no local file header where the directory says');
  const start = at + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > size) return cannot('its data runs past the end of the archive');
  const data = file.read(start, entry.compressedSize);
  if (data.length !== entry.compressedSize) return cannot('its data runs past the end of the archive');
  let bytes: Buffer;
  try {
    // chunkSize: the output is allocated at its declared size, where zlib's default is 16 KB a call (a 200,000-plist zip spent 0.6 s allocating them).
    bytes = entry.method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize), chunkSize: Math.max(64, entry.uncompressedSize) });
  } catch (error) {
    return cannot((error as Error).message);
  }
  if (bytes.length !== entry.uncompressedSize) return cannot(`${bytes.length} bytes where the archive declares ${entry.uncompressedSize}`);
  // A damaged entry would otherwise be audited as what the Mac holds: a digit changed is a value it never had.
  return crc32(bytes) === entry.crc ? bytes : cannot('its CRC-32 does not match: the archive is damaged');
}

/** zlib's CRC-32 came in Node 20.15; before, the table-driven one of APPNOTE 4.4.7. */
export const crc32: (bytes: Uint8Array) => number = zlib.crc32 ?? tableCrc32;

let crcTable: Uint32Array | undefined;

export function tableCrc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
    return n;
  });
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const WINDOW = 256 * 1024;

/**
 * A file read through a window of WINDOW bytes. A zip's directory records, and its entries' headers and
 * data, are small and read in order, and here each read is a system call: a 20,000-plist zip spent 0.8 s
 * of its 1.6 s in 80,000 of them.
 */
class FileWindow {
  private readonly fd: number;
  private readonly size: number;
  private readonly buffer = Buffer.allocUnsafe(WINDOW);
  private start = 0;
  private end = 0;

  constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file), valid until the next read. */
  read(position: number, length: number): Buffer {
    if (position < this.start || position + length > this.end) {
      if (length > WINDOW) {
        const out = Buffer.allocUnsafe(length);
        return out.subarray(0, readSync(this.fd, out, 0, length, position));
      }
      this.start = position;
      this.end = position + readSync(this.fd, this.buffer, 0, Math.max(0, Math.min(WINDOW, this.size - position)), position);
    }
    return this.buffer.subarray(position - this.start, Math.min(position + length, this.end) - this.start);
  }
}

/**
 * Reads a tar.gz (or a plain .tar) of pulls, each plist as it comes out: gunzip (on libuv's threads) runs
 * only as fast as its chunks are taken, so however large the archive, little of it is held. Threads that
 * parse and check while this one reads were tried: a 100,000-Mac tar.gz took 3.0 to 3.4 s with them, 2.6
 * to 3.7 s without, and 121 MB against 96 MB (this thread's share, gunzip, the headers and sending the
 * bytes, left little to gain).
 */
async function readTar(arg: string, path: string, flags: number, domainOf: DomainOf, visit: (pulled: Pulled) => void, track: Track): Promise<void> {
  const { fd, size } = openArchive(path, flags);
  const bar = track(`KB of ${arg}`, Math.ceil(size / 1024));
  const kind = /\.tar$/i.test(arg) ? 'tar' : 'tar.gz';
  const file = createReadStream('', { fd, highWaterMark: 1 << 20 });
  const stream = kind === 'tar' ? file : file.pipe(zlib.createGunzip({ chunkSize: 1 << 18 }));
  // pipe() does not pass a read error on: without this, the loop below would wait for gunzip for ever.
  file.on('error', (e) => stream.destroy(e));
  const tar = new TarReader(domainOf, MAX_PULLED_BYTES, ({ name, selected, size, bytes }) => visit(inArchive(arg, name, selected, bytes ?? tooLarge(size))));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bar.update(Math.floor(file.bytesRead / 1024));
      tar.push(chunk);
      if (tar.ended) break;
    }
    tar.end();
  } catch (error) {
    // A bug while auditing a plist is not the archive's fault, and is not reported as if it were.
    const e = error as NodeJS.ErrnoException;
    if (e.syscall) throw new ArchiveError(`cannot read it (${systemReason(e)})`);
    if (error instanceof TarError || e.code?.startsWith('Z_')) throw new ArchiveError(`not a readable ${kind} archive (${e.message})`);
    throw error;
  } finally {
    bar.finish();
    stream.destroy();
    file.destroy();
  }
}

/** A plist of `domain` named `name` in the archive given as `arg`. */
const inArchive = (arg: string, name: string, domain: string, bytes: Pulled['bytes']): Pulled => ({ file: `${arg}!/${name}`, ...whoFrom(name), domain, bytes });
