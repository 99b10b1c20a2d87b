import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { STDOUT_CLOSED, type CommandData, type CommandMessage } from './command-thread.js';
import { processIo } from './io.js';
import { cli } from './main.js';

// The thread build, audit and validate run on (see command-thread.ts).
const { argv, stdoutIsTTY, stderrIsTTY } = workerData as CommandData;
// Set once this thread has loaded what it starts with: set before, it would cost the thread the code cache too.
setFlagsFromString('--heap-growing-percent=20');
let readerGone = false;
parentPort!.on('message', (message) => void (readerGone ||= message === STDOUT_CLOSED));
parentPort!.unref();
const writing = (outDir: string) => parentPort!.postMessage({ writing: outDir } satisfies CommandMessage);
process.exitCode = await cli(argv, { ...processIo(() => readerGone), stdoutIsTTY, stderrIsTTY, writing });
