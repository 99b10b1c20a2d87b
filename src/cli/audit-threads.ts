import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { inForceElsewhere, ManagedValues, type AuditContext, type Audited, type Finding, type FolderPlists, type FolderSiblings, type ManagedFile, type UserLookup } from '../audit/audit.js';
import type { User } from '../fleet/model.js';
import { macNameKey } from '../directory/names.js';
import { countFinding, summarize, type AuditSummary } from '../format/findings.js';
import { SortedSpool } from './spool.js';
import { zipDomain, type DomainOf, type ZipArchive, type ZipRecord } from './pulled.js';

/** A folder with at least this many subfolders near its top is audited by threads, a share of folders each. */
export const THREADED_FOLDERS = 256;
/**
 * A zip with at least this many entries (its folders among them) is audited by threads, one per core, a
 * share of its records each, while the main thread reads the central directory. 100,000 Macs (800,000
 * entries) took 4.5 to 4.7 s where one thread took 6.6 s, in 128 MB instead of 83 MB; 10,000 Macs (80,000
 * entries) took 1.32 s against 1.22 s, which the threads' start does not pay back.
 */
export const THREADED_ENTRIES = 100_000;

/** How many threads audit a folder or a zip: `start`, and one more at a time up to `most` while `grow` says so. */
export interface ThreadPlan {
  start: number;
  most: number;
  /** Asked as each share comes back. */
  grow: () => boolean;
  /**
   * Asked, before each share the calling thread may audit itself, with how long what is left would take
   * it and the share of that time it kept its core busy: whether threads should take the rest. Without
   * it, threads audit every share.
   */
  handOver?: (remainingMs: number, busy: number) => boolean;
}

/**
 * One thread per core, and one more at a time, up to two per core, while the cores are not kept busy: a
 * thread that waits for the disk leaves its core to another, and one that does not only competes for it
 * (each thread also compiles the audit's code anew). On 2 cores, 10,000 pulled Macs took 0.81 s with 2
 * threads and 1.09 s with 4 warm, and 5.35 s with 2 and 3.8 to 4.1 s with 4 once the file cache was
 * dropped (3.5 s with 8, in 200 MB against 137 MB).
 */
export function auditThreads({ cores = availableParallelism(), paybackMs = PAYBACK_MS } = {}): ThreadPlan {
  return { start: cores, most: 2 * cores, grow: whenCoresWait(cores), handOver: (remainingMs, busy) => busy < GROW_BELOW || remainingMs > paybackMs };
}

/**
 * What is left of a pull is audited by threads when the calling thread waits for the disk, or when the rest
 * would take it longer than this. Starting a thread (its own copy of the audit's code, compiled again)
 * costs about as much as auditing a few thousand cached Macs: 1,000 took 264 ms on one thread and 428 ms
 * with 2 threads, 3,000 354 ms against 532 ms, 10,000 0.71 s against 0.74 s. The estimate comes from the
 * first shares, while the code is still being optimised, at up to five times the later cost per Mac
 * (10,000 cached Macs were estimated at 1.7 to 2.9 s, and took 0.5 s), so the time is set high.
 */
const PAYBACK_MS = 2000;

/**
 * Audits shares with `here` on the calling thread while `handOver` says that what is left would not pay
 * for threads: the units audited, or undefined when no share is left.
 */
export function auditHereFirst(next: () => Work | undefined, here: (work: Work) => void, handOver: ThreadPlan['handOver'], total: number, onProgress: (units: number) => void, clocks = { wall: () => performance.now(), cpu: processCpuMs }): number | undefined {
  if (!handOver) return 0;
  let done = 0;
  /** Wall and CPU time of the shares of folders, and the units and time of those that estimate the rest. */
  let [wallMs, cpuMs, timed, timedMs] = [0, 0, 0, 0];
  for (;;) {
    if (wallMs > 0 && handOver(timed > 0 ? (timedMs / timed) * (total - done) : 0, cpuMs / wallMs)) return done;
    const work = next();
    if (!work) return undefined;
    const [wall, cpu] = [clocks.wall(), clocks.cpu()];
    here(work);
    if (work.units > 0) {
      const took = clocks.wall() - wall;
      [wallMs, cpuMs] = [wallMs + took, cpuMs + clocks.cpu() - cpu];
      // The first share of folders says whether the disk is waited for, not how long the rest will take:
      // most of its time is compiling the audit's code (32 cached Macs took 32 ms, the next 32 about 6 ms,
      // and later ones 0.05 ms a Mac).
      if (done > 0) [timed, timedMs] = [timed + work.units, timedMs + took];
    }
    onProgress((done += work.units));
  }
}

/** The CPU time of the process, in milliseconds: the calling thread's, while no other works. */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The same threads throughout: MDMGEN_THREADS, or a zip's records (read from one file). */
export const fixedThreads = (threads: number): ThreadPlan => ({ start: threads, most: threads, grow: () => false });

/** Cores busy for less than this share of the time since the last answer: the threads are waiting. */
const GROW_BELOW = 0.7;
/** The least time between two answers: shares come back every few milliseconds. */
const SAMPLE_MS = 200;

/** Says yes when the process (all its threads) kept less than GROW_BELOW of the cores busy since it last answered. */
function whenCoresWait(cores: number): () => boolean {
  let since = performance.now();
  let cpu = process.cpuUsage();
  return () => {
    const now = performance.now();
    if (now - since < SAMPLE_MS) return false;
    const used = process.cpuUsage(cpu);
    const busy = (used.user + used.system) / 1000 / ((now - since) * cores);
    since = now;
    cpu = process.cpuUsage();
    return busy < GROW_BELOW;
  };
}

/**
 * Batches per thread: enough to keep both cores busy to the end and the progress bar moving, few enough
 * that messages between threads stay rare (with 32-folder batches, the threads of a 30,000-user audit spent
 * 70 to 100 ms each in postMessage, a sixteenth of their time).
 */
const BATCHES_PER_THREAD = 64;
const MIN_PER_BATCH = 32;

export interface AuditSetup {
  fleetFile: string;
  fleetBytes: Uint8Array;
  /** Whether the report lists every file audited (junit, html), or only counts them. */
  listAudited: boolean;
  /** Whether the fleet has a directory: a thread then asks for the users of each batch before auditing it. */
  askForUsers: boolean;
}

/** A thread's share: folders and files under a folder, or a zip's plists. */
export interface Work {
  dirs: string[];
  files: string[];
  zip?: { record: ZipRecord; domain: string }[];
  /** The zip's file descriptor, opened by the main thread: a thread reads that file, never one put in its place since. */
  zipFd?: number;
  /** What the progress bar counts: folders, or a zip's records (its folders and other files too). */
  units: number;
}

/** A share sent to a thread: `root` is the folder, or the zip, given as `arg`. */
export interface Batch extends Work {
  type: 'batch';
  id: number;
  root: string;
  arg: string;
}

/** The directory users a batch's files belong to, sent on request: threads do not hold the directory. */
export interface UsersReply {
  type: 'users';
  id: number;
  users: User[];
}

export type WorkerMessage =
  | { type: 'need'; id: number; names: string[] }
  | { type: 'done'; id: number; findings: string; summary: AuditSummary; audited: Audited[]; hosts: Uint8Array; users: Uint8Array; archives: string[]; incomplete: FolderPlists[]; managed: ManagedFile[] };

/**
 * Names (hosts, host/user pairs) written as UTF-8, each after its length in bytes (LEB128: a zip entry's
 * name may hold any character, '\0' too), and a name given again at once (the next plist of the same Mac)
 * written once. Bytes rather than strings: a thread gathered each batch's names in Sets until the batch
 * ended, by when they had outlived its young generation, and a thread never lives to its first full
 * collection, so that garbage stayed (over a 200,000-plist audit, each thread's old space grew from 7.9 to
 * 11.3 MB with the Sets, from 7.7 to 8.7 MB without).
 */
export class NameBytes {
  private bytes = Buffer.alloc(16 * 1024);
  private length = 0;
  private last = '';

  get size(): number {
    return this.length;
  }

  add(name: string): void {
    if (name === this.last) return;
    this.last = name;
    let size = Buffer.byteLength(name, 'utf8');
    if (this.length + 5 + size > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.length + 5 + size, 2 * this.bytes.length));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    for (; size >= 0x80; size >>>= 7) this.bytes[this.length++] = (size & 0x7f) | 0x80;
    this.bytes[this.length++] = size;
    this.length += this.bytes.write(name, this.length, 'utf8');
  }

  /** A copy of the names written since the last take (a view would carry, and clone, the whole buffer). */
  take(): Uint8Array {
    const taken = new Uint8Array(this.bytes.subarray(0, this.length));
    this.length = 0;
    this.last = '';
    return taken;
  }
}

/**
 * Counts distinct names in little memory: they are kept as NameBytes' chunks and deduplicated only when
 * counted. As Sets of strings, the hosts and users of a 100,000-Mac pull held 15 MB to the end.
 */
export class DistinctNames {
  private readonly chunks: Uint8Array[] = [];
  private readonly pending = new NameBytes();

  add(name: string): void {
    this.pending.add(name);
    if (this.pending.size >= 64 * 1024) this.addChunk(this.pending.take());
  }

  /** Names as NameBytes wrote them. */
  addChunk(chunk: Uint8Array): void {
    if (chunk.length) this.chunks.push(chunk);
  }

  count(): number {
    let count = 0;
    for (const _ of this.names()) count++;
    return count;
  }

  /** Each name once. */
  *names(): Generator<string> {
    this.addChunk(this.pending.take());
    const names = new Set<string>();
    for (const chunk of this.chunks) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      for (let at = 0; at < bytes.length;) {
        let size = 0;
        for (let shift = 0; ; shift += 7) {
          const byte = bytes[at++]!;
          size += (byte & 0x7f) * 2 ** shift;
          if (byte < 0x80) break;
        }
        const name = bytes.toString('utf8', at, (at += size));
        if (names.has(name)) continue;
        names.add(name);
        yield name;
      }
    }
  }
}

/** A user of a Mac, counted once however the folders that name them differ in case (Users/JGarcia, Managed Preferences/jgarcia). */
export const macUser = (host: string | null, user: string) => `${host}/${macNameKey(user)}`;

/** Appends one by one: spread into push, each item is an argument on the stack, and a pull can give more than it holds. */
export function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

/** Files in path order; a file's findings by line. */
const byPath = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
export const byPathAndLine = (a: Finding, b: Finding) => byPath(a, b) || (a.line ?? 0) - (b.line ?? 0);

/**
 * What an audit has found so far, from any thread, in path order whatever order files were read in, and
 * in memory that does not grow with the fleet: findings (and the list of files audited) in spools.
 */
export class Tally {
  readonly summary: AuditSummary = summarize(0, [], 0, 0);
  readonly findings: SortedSpool<Finding>;
  readonly audited: SortedSpool<Audited>;
  readonly hosts = new DistinctNames();
  readonly users = new DistinctNames();
  readonly listAudited: boolean;
  /** Folders that hold one of Messenger's plists but not the other (so far). */
  readonly siblings: FolderSiblings;
  readonly managed = new ManagedValues();
  constructor(listAudited: boolean, siblings: FolderSiblings, spoolLimit?: number) {
    this.listAudited = listAudited;
    this.siblings = siblings;
    this.findings = new SortedSpool<Finding>(byPathAndLine, spoolLimit);
    this.audited = new SortedSpool<Audited>(byPath, spoolLimit);
  }

  get files(): number {
    return this.summary.files;
  }

  add(result: { findings: readonly Finding[]; audited: Audited; managed?: ManagedFile }, host: string | null, user: string | null, withSiblings = true): void {
    this.summary.files++;
    this.found(result.findings);
    if (result.managed) this.managed.add(result.managed);
    if (withSiblings) this.siblings.add(result.audited.file, host, user, result.audited.domain);
    if (this.listAudited) this.audited.push(result.audited);
    if (host) this.hosts.add(host);
    if (user) this.users.add(macUser(host, user));
  }

  found(findings: Iterable<Finding>): void {
    for (const f of findings) {
      countFinding(this.summary, f);
      this.findings.push(f);
    }
  }

  /** Plists missing from the pull (missingPlists): listed with the files audited, as failing ones (junit, html). */
  missed(findings: readonly Finding[]): void {
    this.found(findings);
    if (this.listAudited) for (const f of findings) this.audited.push({ file: f.file, group: f.group, domain: f.domain! });
  }

  /** A thread's share: its findings as a run (sortedLines), and its counts. */
  foundRun(lines: string, counts: AuditSummary): void {
    for (const key of ['files', 'unreadable', 'errors', 'warnings', 'infos'] as const) this.summary[key] += counts[key];
    this.findings.pushRun(lines);
  }

  /** The summary of what was found, its names counted. */
  summarize(): AuditSummary {
    return { ...this.summary, hosts: this.hosts.count(), users: this.users.count() };
  }

  /**
   * The report's summary and findings. Where the pull held files of Managed Preferences, the computer's are
   * judged for each user of their Mac, and the findings about a user's own file on keys held there
   * (inForceElsewhere) are left out, and out of the counts; so are those `exempt` says fleet.yaml exempts,
   * which are counted as such.
   */
  report(context: AuditContext, exempt?: (f: Finding) => boolean): { summary: AuditSummary; findings: Iterable<Finding> } {
    const { findings, managed } = this;
    if (managed.size === 0 && !exempt) return { summary: this.summarize(), findings };
    if (managed.size > 0) {
      const users = function* (names: Iterable<string>) {
        for (const name of names) yield { host: name.slice(0, name.indexOf('/')), user: name.slice(name.indexOf('/') + 1) };
      };
      this.found(managed.againstUsers(users(this.users.names()), context));
    }
    const summary = this.summarize();
    const elsewhere = (f: Finding) => managed.size > 0 && inForceElsewhere(f, managed);
    for (const f of findings) {
      if (elsewhere(f)) countFinding(summary, f, -1);
      else if (exempt?.(f)) {
        countFinding(summary, f, -1);
        summary.exempted++;
      }
    }
    const kept = (f: Finding) => !elsewhere(f) && !exempt?.(f);
    return { summary, findings: { *[Symbol.iterator]() { for (const f of findings) if (kept(f)) yield f; } } };
  }

  [Symbol.dispose](): void {
    this.findings.close();
    this.audited.close();
  }
}

/** A folder's shares: its top files, then its folders, a run of each at a time. */
export function folderWork(plan: { dirs: string[]; files: string[] }, threads: number): () => Work | undefined {
  const perBatch = Math.max(MIN_PER_BATCH, Math.ceil((plan.files.length + plan.dirs.length) / (threads * BATCHES_PER_THREAD)));
  const works: Work[] = [];
  for (let i = 0; i < plan.files.length; i += perBatch) works.push({ dirs: [], files: plan.files.slice(i, i + perBatch), units: 0 });
  for (let i = 0; i < plan.dirs.length; i += perBatch) {
    const dirs = plan.dirs.slice(i, i + perBatch);
    works.push({ dirs, files: [], units: dirs.length });
  }
  let next = 0;
  return () => works[next++];
}

/** A zip's shares, read from its central directory as threads ask for them, so no list of its records is held. */
export function zipWork(zip: ZipArchive, domainOf: DomainOf, threads: number): () => Work | undefined {
  const perBatch = Math.max(MIN_PER_BATCH, Math.ceil(zip.entryCount / (threads * BATCHES_PER_THREAD)));
  const records = zip.records();
  let fault: unknown;
  return () => {
    if (fault !== undefined) throw fault;
    const work: Work = { dirs: [], files: [], zip: [], zipFd: zip.fd, units: 0 };
    try {
      while (work.units < perBatch) {
        const next = records.next();
        if (next.done) break;
        work.units++;
        const domain = next.value && zipDomain(next.value, domainOf);
        if (domain !== undefined) work.zip!.push({ record: next.value!, domain });
      }
    } catch (error) {
      // The records before a fault are audited, as on one thread: this share goes out, and the next call throws.
      fault = error;
      if (work.units === 0) throw error;
    }
    return work.units > 0 ? work : undefined;
  };
}

/**
 * Audits a folder's or a zip's shares, as `next` gives them, with worker threads: each walks (or reads the
 * zip's entries), reads, parses and checks its share, so both cores work and no file is read twice.
 * Findings come back to the tally; the archives found in a folder (relative to root) are returned, for the
 * caller to read, with how many threads audited a share. When `next` throws (a zip's directory breaks
 * off), the shares already sent are finished first, so what came before the fault is audited, as on one
 * thread.
 */
export async function auditInThreads(setup: AuditSetup, root: string, arg: string, next: () => Work | undefined, threads: ThreadPlan, usersByName: UserLookup, tally: Tally, onProgress: (units: number) => void): Promise<{ archives: string[]; threads: number }> {
  // V8 doubles a thread's young generation once enough has survived over its life: a 100,000-Mac audit's
  // threads each grew theirs from 8 to 17 MB (34 MB more at the peak, which 10,000 Macs never reach); held
  // at 8 MB, it peaked at 179 MB instead of 208 MB, no slower; at 6 MB, four threads took a 20,000-plist
  // audit from 155-157 MB to 139 MB.
  const workers: Worker[] = [];
  /** The threads that audited a share. */
  const working = new Set<Worker>();
  const unitsOf = new Map<number, number>();
  let sent = 0;
  let done = 0;
  let units = 0;
  let exhausted = false;
  let failure: unknown;
  const archives: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const send = (worker: Worker) => {
        if (exhausted) return;
        let work: Work | undefined;
        try {
          work = next();
        } catch (error) {
          failure = error;
        }
        if (!work) {
          exhausted = true;
          return;
        }
        unitsOf.set(sent, work.units);
        worker.postMessage({ type: 'batch', id: sent++, root, arg, ...work } satisfies Batch);
      };
      const settle = () => {
        if (exhausted && done === sent) {
          if (failure === undefined) resolve();
          else reject(failure);
        }
      };
      const startWorker = () => {
        const worker = new Worker(new URL('./audit-worker.js', import.meta.url), { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: 6 } });
        workers.push(worker);
        worker.on('error', reject);
        worker.on('exit', (code) => code !== 0 && reject(new Error(`an audit thread stopped (exit code ${code})`)));
        worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'need') {
            const users = message.names.map((name) => usersByName.get(name)).filter((u): u is User => u !== undefined);
            worker.postMessage({ type: 'users', id: message.id, users } satisfies UsersReply);
            return;
          }
          tally.foundRun(message.findings, message.summary);
          for (const found of message.incomplete) tally.siblings.merge(found);
          for (const file of message.managed) tally.managed.add(file);
          for (const a of message.audited) tally.audited.push(a);
          tally.hosts.addChunk(message.hosts);
          tally.users.addChunk(message.users);
          append(archives, message.archives);
          units += unitsOf.get(message.id)!;
          unitsOf.delete(message.id);
          onProgress(units);
          done++;
          working.add(worker);
          if (!exhausted && workers.length < threads.most && threads.grow()) startWorker();
          send(worker);
          settle();
        });
        // Two shares each: one is listed while the other waits for its users, or is audited while the next is on its way.
        send(worker);
        send(worker);
      };
      for (let i = 0; i < threads.start; i++) startWorker();
      settle();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { archives, threads: working.size };
}
