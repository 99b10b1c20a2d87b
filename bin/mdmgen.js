#!/usr/bin/env -S node --max-semi-space-size=2
// The flag: mdmgen's main thread mostly reads, writes and hands work to threads, and V8's default young
// generation (up to 16 MB per semi-space) costs a 100,000-user build 50 MB of memory for nothing.
import { main } from '../dist/src/cli/main.js';
import { processIo } from '../dist/src/cli/io.js';

try {
  process.exitCode = await main(process.argv.slice(2), processIo());
} catch (error) {
  // A bug, not bad input: say so in one line, without a stack trace unless asked for.
  process.stderr.write(`mdmgen: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.MDMGEN_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  process.exitCode = 2;
}
