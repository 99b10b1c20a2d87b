import { Worker } from 'node:worker_threads';
import { EXIT, internalError, watchStdout } from './io.js';

/**
 * build, audit and validate (the commands that read a fleet's directory, of 100,000 users and more) run on
 * a thread of their own (command-worker.ts), whose heap is sized for them: a young generation of 4 MB (V8's
 * default grows to 48 MB, which a 100,000-user build filled for nothing: 201-207 MB against 134 MB) and an
 * old generation that grows to 1.2 times what was live after a full collection, not up to twice. The main
 * thread's heap can only be sized by V8 flags on the command line, and any V8 flag there makes Node refuse
 * the code cache its own modules were built with, which every command paid for at startup (`mdmgen --help`
 * 1.60x `node -e 0` with them, 1.32x without). The thread costs about 8 MB.
 */
export function inThread(argv: readonly string[]): Promise<number> {
  const data: CommandData = { argv, stdoutIsTTY: Boolean(process.stdout.isTTY), stderrIsTTY: Boolean(process.stderr.isTTY) };
  const worker = new Worker(new URL('./command-worker.js', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 }, stdout: true });
  // A pipe's reader that went away stops Node's own piping of the thread's stdout, and the thread, waiting for
  // its writes to drain, would wait for ever (`mdmgen audit ... --format json | head` hung): the thread is
  // told to stop writing, and what it had written is read and dropped.
  worker.stdout.pipe(process.stdout, { end: false });
  const closed = watchStdout();
  process.stdout.once('error', () => {
    if (!closed()) return;
    worker.postMessage(STDOUT_CLOSED);
    worker.stdout.unpipe(process.stdout).resume();
  });
  worker.on('message', ({ writing }: CommandMessage) => cleanUpWhenStopped(worker, writing));
  return new Promise((resolve) => {
    // What escapes the command (its errors are caught in cli) ends the thread, and is still a bug said in one line.
    let failed = false;
    worker.on('error', (error) => {
      failed = true;
      process.stderr.write(internalError(error, process.env));
    });
    worker.on('exit', (code) => resolve(failed ? EXIT.usage : code));
  });
}

/**
 * Once a build starts writing, Ctrl-C (or a kill's SIGTERM, or a closed terminal's SIGHUP) stops its thread
 * and removes what it had written, instead of leaving a `build.mdmgen-new-PID` folder for the next build to
 * remove. Another signal while that is done ends mdmgen at once, as the signal does by default.
 */
function cleanUpWhenStopped(worker: Worker, outDir: string): void {
  const signals = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
  const stop = async (signal: keyof typeof signals) => {
    for (const name of Object.keys(signals)) process.removeListener(name, stop);
    await worker.terminate();
    const { abandonOutput } = await import('../compile/output.js');
    const untouched = await abandonOutput(outDir).catch(() => false);
    process.stderr.write(`mdmgen: stopped by ${signal}${untouched ? `; nothing was written, ${outDir} is as it was` : ''}\n`);
    process.exit(128 + signals[signal]);
  };
  for (const name of Object.keys(signals)) process.once(name, stop);
  worker.postMessage(SIGNALS_WATCHED);
  worker.once('exit', () => {
    for (const name of Object.keys(signals)) process.removeListener(name, stop);
  });
}

/** What a command's thread tells the main thread. */
export interface CommandMessage {
  writing: string;
}

/** Told to a command's thread when stdout's reader went away. */
export const STDOUT_CLOSED = 'stdout-closed';
/** Told to a command's thread once a Ctrl-C would clean up after the build it is about to write. */
export const SIGNALS_WATCHED = 'signals-watched';

export interface CommandData {
  argv: readonly string[];
  /** A thread's process.stdout is not a terminal; the main thread's is what the user sees. */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}
