import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { systemReason } from '../diagnostics/system-error.js';

/** Everything the CLI touches outside the process, injectable for tests. */
export interface Io {
  /** Resolves, when it returns a promise, once the text is on its way: a large report waits for its reader. */
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Whether stdout / stderr are terminals (colour, progress). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The clock, for certificate validity only; nothing written depends on it. MDMGEN_NOW overrides it. */
  now: () => Date;
  /**
   * Told of the output folder a build is about to write, for whoever sees a Ctrl-C to clean up after it;
   * the build writes nothing until the promise settles.
   */
  writing?: (outDir: string) => Promise<void>;
}

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/**
 * A path as messages show it: relative to the working folder when inside it ('' for the folder itself),
 * absolute otherwise (`/srv/fleet/fleet.yaml`, not `../../srv/fleet/fleet.yaml`, and `/`, not `../../..`).
 */
export function shownPath(cwd: string, path: string): string {
  const inside = relative(cwd, path);
  return inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside) ? path : inside;
}

/** A bug, not bad input: said in one line, without a stack trace unless MDMGEN_DEBUG asks for one. */
export function internalError(error: unknown, env: NodeJS.ProcessEnv): string {
  const stack = env.MDMGEN_DEBUG && error instanceof Error ? `${error.stack}\n` : '';
  return `mdmgen: internal error: ${error instanceof Error ? error.message : String(error)}\n${stack}`;
}

/**
 * Stdout that cannot be written: a reader that went away (`mdmgen audit ... | head`) ends the writing, not
 * the run, and is no stack trace; anything else (a full disk) ends the run with exit 2, saying so, so a
 * truncated report never passes for a whole one. Returns whether the reader went away.
 */
export function watchStdout(): () => boolean {
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') {
      process.stderr.write(`mdmgen: cannot write to stdout: ${systemReason(error)}\n`);
      process.exit(EXIT.usage);
    }
    closed = true;
  });
  return () => closed;
}

/** `closed` says whether stdout's reader went away: watched here, or told by the main thread to a command's thread. */
export function processIo(closed: () => boolean = watchStdout()): Io {
  // Writes to a pipe are queued when its reader is slower than mdmgen (a 300,000-finding report piped into
  // another program held all 211 MB of itself, twice), so a writer waits for the queue to drain.
  const drained = () => once(process.stdout, 'drain').then(() => undefined, () => undefined);
  return {
    stdout: (text) => (closed() || process.stdout.write(text) ? undefined : drained()),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    now: () => (process.env.MDMGEN_NOW ? new Date(process.env.MDMGEN_NOW) : new Date()),
  };
}

/** The most mdmgen reads of a file the admin names: a directory export of a million users is about 100 MB. */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/**
 * Reads a file the admin names (fleet.yaml and the files it points at, a profile to inspect or verify), or
 * says why not in a few words. A pipe (`mdmgen validate <(git show HEAD:fleet.yaml)`) is read to its end;
 * a device that never ends (/dev/zero) or a file larger than `limit` is refused, not read for ever.
 */
export async function readNamed(path: string, limit = MAX_INPUT_BYTES): Promise<Buffer | string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (info.isDirectory()) return 'it is a folder';
    if (info.size > limit) return tooLarge(limit);
    // A regular file comes in one read (and one more that finds its end); anything else a piece at a time.
    const piece = info.isFile() ? info.size + 1 : 64 * 1024;
    const pieces: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(piece), 0, piece, null);
      if (bytesRead === 0) return Buffer.concat(pieces, total);
      total += bytesRead;
      if (total > limit) return tooLarge(limit);
      pieces.push(buffer.subarray(0, bytesRead));
    }
  } catch (error) {
    return systemReason(error);
  } finally {
    await handle?.close();
  }
}

const tooLarge = (limit: number) => `it is larger than ${limit / (1024 * 1024)} MB`;

/**
 * Standard input, for a FILE given as `-` (`defaults export com.microsoft.Messenger - | mdmgen inspect -`),
 * read as a stream whatever it is (pipe, file, terminal), with readNamed's limit.
 */
export async function readStdin(stdin: AsyncIterable<Buffer> = process.stdin, limit = MAX_INPUT_BYTES): Promise<Buffer | string> {
  const pieces: Buffer[] = [];
  let total = 0;
  try {
    for await (const piece of stdin) {
      total += piece.length;
      if (total > limit) return tooLarge(limit);
      pieces.push(piece);
    }
  } catch (error) {
    return systemReason(error);
  }
  return Buffer.concat(pieces, total);
}
