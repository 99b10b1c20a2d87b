#!/usr/bin/env node
// No V8 flags here: any flag costs every command its startup. The commands that read a fleet and its
// directory run on a thread sized as flags would size them (src/cli/command-thread.ts).
const argv = process.argv.slice(2);
if (argv[0] === 'build' || argv[0] === 'audit' || argv[0] === 'validate') {
  const { inThread } = await import('../dist/src/cli/command-thread.js');
  process.exitCode = await inThread(argv);
} else {
  const [{ cli }, { processIo }] = await Promise.all([import('../dist/src/cli/main.js'), import('../dist/src/cli/io.js')]);
  process.exitCode = await cli(argv, processIo());
}
