import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SigningIdentity } from '../pki/identity.js';
import type { PackedRows } from '../directory/directory.js';
import { manifestEntryText, userArtifact, type BuildInput, type UserTargets } from './plan.js';

/** Below this many users, starting threads (about 60 ms each, to load the compiler) costs more than it saves. */
const THREAD_THRESHOLD = 2000;
/**
 * Profiles per message. A chunk's profiles live until it is sent, and in a thread's small young generation
 * they get promoted: a 100,000-user build peaked at 131 to 134 MB with 32, at 160 MB with 128, no faster.
 */
const CHUNK = 32;
/** Chunks made but not yet written, at most: what bounds memory when the disk is slower than the threads. */
const AHEAD = 16;
/**
 * V8 lets a thread's young generation grow to 48 MB; a build thread's garbage is short-lived and small,
 * and 6 MB saves about 15 MB a thread at no measurable cost in time (threads with 24 MB were measured:
 * half the scavenge time, no faster, 20 MB more).
 */
const YOUNG_GENERATION_MB = 6;

export interface Signing {
  identity: SigningIdentity;
  signingTime?: Date;
}

/** What a worker needs to make any user's profile: the fleet is checked again from its bytes in the worker. */
export interface WorkerSetup {
  fleetFile: string;
  fleetBytes: Uint8Array;
  secrets: ReadonlyMap<number, string>;
  plistFormat: BuildInput['plistFormat'];
  version: string;
  signing?: { key: KeyObject; certificate: Uint8Array; chain: Uint8Array[]; signingTime?: Date };
}

export interface Chunk {
  index: number;
  users: PackedRows;
}

export interface ChunkResult {
  index: number;
  /** Every profile's bytes, one after another. */
  bytes: ArrayBuffer;
  lengths: number[];
  paths: string[];
  /** Each profile's manifest entry, as manifestEntryText writes it. */
  manifest: string[];
}

/** A made profile: where it goes, its bytes, and its manifest entry's text. */
export interface MadeProfile {
  path: string;
  bytes: Buffer;
  manifest: string;
}

/**
 * Threads that will make the per-user profiles, started as soon as the number of users is known, so that
 * each loads the compiler while this thread plans the build.
 */
export class BuildThreads {
  readonly workers: Worker[];
  /** Rejects when a thread fails, or stops before terminate(). */
  readonly failed: Promise<never>;
  private stopping = false;

  /** Undefined when the build is too small to gain from threads; `count` (MDMGEN_THREADS) overrides, 0 for none. */
  static start(users: number, count?: number): BuildThreads | undefined {
    const threads = Math.min(count ?? (users >= THREAD_THRESHOLD ? availableParallelism() : 0), Math.ceil(users / CHUNK));
    return threads > 0 ? new BuildThreads(threads) : undefined;
  }

  private constructor(count: number) {
    this.workers = Array.from({ length: count }, () => new Worker(new URL('./user-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
    this.failed = new Promise<never>((_, reject) => {
      for (const worker of this.workers) {
        worker.on('error', reject);
        worker.on('exit', (code) => this.stopping || reject(new Error(`a build thread stopped (exit code ${code})`)));
      }
    });
    this.failed.catch(() => undefined); // makeUserProfiles awaits it; a build that stops earlier never does
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Makes every user's profile and hands each to `sink` in path order. With threads (BuildThreads.start),
 * they make the profiles (serialising, hashing and signing) while this thread writes; a thread gets a new
 * chunk only when few are waiting to be written, so however many users there are, only a few hundred
 * profiles are ever in memory. The threads are stopped at the end.
 */
export async function makeUserProfiles(input: BuildInput, targets: UserTargets, signing: Signing | undefined, sink: (profile: MadeProfile) => void, options: { threads?: BuildThreads; onProgress?: (done: number) => void } = {}): Promise<void> {
  const threads = options.threads;
  if (!threads || targets.length === 0) {
    await threads?.terminate();
    for (let i = 0; i < targets.length; i++) {
      const { path, bytes, entry } = userArtifact(input, targets.at(i));
      sink({ path, bytes, manifest: manifestEntryText(entry) });
      if ((i + 1) % CHUNK === 0) options.onProgress?.(i + 1);
    }
    options.onProgress?.(targets.length);
    return;
  }
  const setup: WorkerSetup = {
    fleetFile: input.fleet.file,
    fleetBytes: input.fleetBytes,
    secrets: new Map(input.secrets ?? []),
    plistFormat: input.plistFormat,
    version: input.version,
    ...(signing && {
      signing: {
        key: signing.identity.key,
        certificate: signing.identity.certificate.der,
        chain: signing.identity.chain.map((c) => c.der),
        ...(signing.signingTime && { signingTime: signing.signingTime }),
      },
    }),
  };
  const { workers } = threads;
  const chunks = Math.ceil(targets.length / CHUNK);
  for (const worker of workers) worker.postMessage(setup);
  const done = new Map<number, ChunkResult>();
  let next = 0;
  let written = 0;
  let users = 0;
  try {
    await Promise.race([threads.failed, new Promise<void>((resolve, reject) => {
      const inFlight = new Map<Worker, number>(workers.map((w) => [w, 0]));
      const fill = () => {
        for (const worker of workers) {
          while (inFlight.get(worker)! < 2 && next < chunks && next < written + AHEAD) {
            const index = next++;
            inFlight.set(worker, inFlight.get(worker)! + 1);
            const first = index * CHUNK;
            worker.postMessage({ index, users: targets.pack(first, Math.min(first + CHUNK, targets.length)) } satisfies Chunk);
          }
        }
      };
      const write = (result: ChunkResult) => {
        let at = 0;
        result.paths.forEach((path, i) => {
          const bytes = Buffer.from(result.bytes, at, result.lengths[i]!);
          at += bytes.length;
          sink({ path, bytes, manifest: result.manifest[i]! });
        });
        users += result.paths.length;
        options.onProgress?.(users);
      };
      for (const worker of workers) {
        worker.on('message', (result: ChunkResult) => {
          inFlight.set(worker, inFlight.get(worker)! - 1);
          done.set(result.index, result);
          try {
            for (let ready = done.get(written); ready; ready = done.get(written)) {
              done.delete(written++);
              write(ready);
            }
          } catch (error) {
            return reject(error);
          }
          if (written === chunks) resolve();
          else fill();
        });
      }
      fill();
    })]);
  } finally {
    await threads.terminate();
  }
}
