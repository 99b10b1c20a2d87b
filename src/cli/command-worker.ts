import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { SIGNALS_WATCHED, STDOUT_CLOSED, type CommandData, type CommandMessage } from './command-thread.js';
import { processIo } from './io.js';
import { cli } from './main.js';

// The thread build, audit and validate run on (see command-thread.ts).
const { argv, stdoutIsTTY, stderrIsTTY } = workerData as CommandData;
// Set once this thread has loaded what it starts with: set before, it would cost the thread the code cache too.
setFlagsFromString('--heap-growing-percent=20');
let readerGone = false;
let watched: (() => void) | undefined;
parentPort!.on('message', (message) => {
  if (message === SIGNALS_WATCHED) watched?.();
  else readerGone ||= message === STDOUT_CLOSED;
});
parentPort!.unref();
// The build waits until the main thread watches for signals: a Ctrl-C before that would end the process
// as the signal does by default, with a staging folder already made and no one left to remove it.
const writing = (outDir: string) => new Promise<void>((resolve) => {
  parentPort!.ref();
  watched = () => {
    parentPort!.unref();
    resolve();
  };
  parentPort!.postMessage({ writing: outDir } satisfies CommandMessage);
});
process.exitCode = await cli(argv, { ...processIo(() => readerGone), stdoutIsTTY, stderrIsTTY, writing });
