import { setFlagsFromString } from 'node:v8';
import { workerData } from 'node:worker_threads';
import type { CommandData } from './command-thread.js';
import { processIo } from './io.js';
import { cli } from './main.js';

// The thread build, audit and validate run on (see command-thread.ts).
const { argv, stdoutIsTTY, stderrIsTTY } = workerData as CommandData;
// Set once this thread has loaded what it starts with: set before, it would cost the thread the code cache too.
setFlagsFromString('--heap-growing-percent=20');
process.exitCode = await cli(argv, { ...processIo(), stdoutIsTTY, stderrIsTTY });
