import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, canMount, EXAMPLE, exampleCopy, mdmgen, smallDisk, snapshotTree, tempDir, writeFleet } from './helpers/helpers.js';

function build(fleet: string, out: string) {
  return mdmgen(['build', fleet, '-o', out]);
}

test('a staging folder left by a killed build is removed, and the previous output is kept', () => {
  const dir = tempDir();
  const out = join(dir, 'build');
  assert.equal(build(EXAMPLE, out).code, 0);
  const before = snapshotTree(out);
  mkdirSync(join(dir, 'build.mdmgen-new-99999', 'profiles'), { recursive: true });
  writeFileSync(join(dir, 'build.mdmgen-new-99999', 'profiles', 'half.mobileconfig'), '<?xml');
  assert.equal(build(EXAMPLE, out).code, 0);
  assert.deepEqual(readdirSync(dir).sort(), ['build']);
  assert.deepEqual(snapshotTree(out), before);
});

test('a build killed between its two renames is recovered on the next run', () => {
  const dir = tempDir();
  const out = join(dir, 'build');
  assert.equal(build(EXAMPLE, out).code, 0);
  const before = snapshotTree(out);
  // What a kill after "rename the old output away" leaves: no build/, the old output beside it.
  const moved = join(dir, 'build.mdmgen-old-4242');
  mdmgen(['build', EXAMPLE, '-o', moved]);
  const invalid = writeFleet('mdmgen: 2\n');
  assert.equal(build(invalid, out).code, 2);
  assert.ok(existsSync(moved), 'validation fails before the output folder is touched');
  assert.equal(build(EXAMPLE, out).code, 0);
  assert.deepEqual(snapshotTree(out), before);
});

test('killed between its two renames, then a build that fails as it writes: the old output is back in place', async () => {
  const { writeOutputWith } = await import('../src/compile/output.js');
  const dir = tempDir();
  const moved = join(dir, 'build.mdmgen-old-4242');
  assert.equal(build(EXAMPLE, moved).code, 0);
  const before = snapshotTree(moved);
  const full = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
  await assert.rejects(writeOutputWith(join(dir, 'build'), async () => { throw full; }), /cannot write the build: the disk is full/);
  assert.deepEqual(readdirSync(dir), ['build']);
  assert.deepEqual(snapshotTree(join(dir, 'build')), before);
});

test('killed with SIGKILL at any moment, the output folder is the old build or the new one, never a mix', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const out = join(dir, 'build');
  const other = exampleCopy((t) => t.replace('lcs01.corp.example.com', 'lcs02.corp.example.com'));
  assert.equal(build(EXAMPLE, out).code, 0);
  const old = snapshotTree(out);
  const fresh = snapshotTree((() => { const o = join(tempDir(), 'b'); build(other, o); return o; })());
  const outcomes = new Set<string>();
  for (let delay = 0; delay <= 330; delay += 15) {
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'build', other, '-o', out], { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      child.on('exit', () => { clearTimeout(timer); resolve(); });
    });
    const now = existsSync(out) ? snapshotTree(out) : undefined;
    if (now === undefined) {
      outcomes.add('between renames'); // recovered by the next build, tested above
      assert.ok(readdirSync(dir).some((e) => e.startsWith('build.mdmgen-old-')));
      assert.equal(build(EXAMPLE, out).code, 0);
    } else {
      const same = JSON.stringify(now) === JSON.stringify(old) ? 'old' : JSON.stringify(now) === JSON.stringify(fresh) ? 'new' : 'mixed';
      assert.notEqual(same, 'mixed', `delay ${delay} ms left a mixed output folder`);
      outcomes.add(same);
    }
    assert.equal(build(EXAMPLE, out).code, 0);
  }
  assert.ok(outcomes.has('old'), [...outcomes].join());
});

test('refuses to replace a folder that holds files no build wrote', () => {
  const dir = tempDir();
  const out = join(dir, 'build');
  assert.equal(build(EXAMPLE, out).code, 0);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const run = build(EXAMPLE, out);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /holds files no build wrote \(notes\.txt\)/);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');

  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'thesis.doc'), 'precious');
  const other = build(EXAMPLE, home);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /not an mdmgen output folder/);
  assert.deepEqual(readdirSync(home), ['thesis.doc']);
});

test('a folder that is no output is refused before anything below it is walked, and a folder it cannot walk is a located error', () => {
  const dir = tempDir();
  // A folder whose name is not UTF-8: Node lists it under a name it cannot open again (ENOENT).
  const home = join(dir, 'home');
  mkdirSync(Buffer.concat([Buffer.from(`${home}/caf`), Buffer.from([0xe9])]), { recursive: true });
  const other = build(EXAMPLE, home);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /home is not an mdmgen output folder/);
  assert.doesNotMatch(other.stderr, /internal error/);

  const out = join(dir, 'build');
  assert.equal(build(EXAMPLE, out).code, 0);
  mkdirSync(Buffer.concat([Buffer.from(`${out}/caf`), Buffer.from([0xe9])]));
  const again = build(EXAMPLE, out);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /cannot look into .*build\/caf\ufffd: no such file/);
  assert.doesNotMatch(again.stderr, /internal error/);
});

test('builds of one output folder at once: each writes a whole build or is refused, and the folder is always one whole build', async () => {
  const dir = tempDir();
  const out = join(dir, 'build');
  const runs = await Promise.all(Array.from({ length: 6 }, () => new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(process.execPath, [BIN, 'build', EXAMPLE, '-o', out], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stderr }));
  })));
  for (const run of runs) {
    assert.ok(run.code === 0 || (run.code === 2 && /another mdmgen build \(process \d+\) is writing .*build; build one output folder at a time/.test(run.stderr)), `${run.code}: ${run.stderr}`);
  }
  assert.ok(runs.some((run) => run.code === 0));
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; sha256: string }[] };
  for (const { path, sha256 } of manifest.artifacts) assert.equal(createHash('sha256').update(readFileSync(join(out, path))).digest('hex'), sha256, path);
  assert.deepEqual(readdirSync(dir), ['build'], 'no lock or staging folder left');
});

test('a lock left by a build that is gone is taken over; one whose build runs refuses the next', async () => {
  const { writeOutputWith } = await import('../src/compile/output.js');
  const dir = tempDir();
  const out = join(dir, 'build');
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  for (const left of [`${gone}\n`, '']) {
    // A lock of a process that is gone, and one left empty by a process killed as it made it.
    writeFileSync(join(dir, 'build.mdmgen-lock'), left);
    assert.equal(build(EXAMPLE, out).code, 0, JSON.stringify(left));
    assert.deepEqual(readdirSync(dir), ['build']);
  }

  let finish = () => {};
  const first = writeOutputWith(out, (stage) => new Promise<void>((resolve) => {
    finish = () => {
      stage.write('a.txt', Buffer.from('a'));
      stage.manifest('{"artifacts": []}');
      resolve();
    };
  }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(writeOutputWith(out, async () => {}), new RegExp(`another mdmgen build \\(process ${process.pid}\\) is writing .*build; build one output folder at a time \\(if none runs, remove .*build\\.mdmgen-lock\\)`));
  assert.equal(build(EXAMPLE, out).code, 2, 'another process is refused too');
  finish();
  await first;
  assert.deepEqual(readdirSync(dir), ['build']);
});

test('the build writes nothing outside its staging folder, whatever path it is handed', async () => {
  const { writeOutputWith } = await import('../src/compile/output.js');
  const dir = tempDir();
  for (const path of ['../escaped', 'a/../../escaped', 'a\\..\\escaped', '/etc/escaped', 'a//b', 'a/./b', '', 'x\0y']) {
    await assert.rejects(writeOutputWith(join(dir, 'out'), async (stage) => stage.write(path, Buffer.from('x'))), /refusing to write .* outside the output folder/, JSON.stringify(path));
  }
  // Two files of one path would be a bug upstream (two users of one name): never a silent overwrite.
  await assert.rejects(writeOutputWith(join(dir, 'out'), async (stage) => {
    stage.write('profiles/a.mobileconfig', Buffer.from('first'));
    stage.write('profiles/a.mobileconfig', Buffer.from('second'));
  }), /cannot write the build: the path already exists/);
  assert.deepEqual(readdirSync(dir), []);
});

test('an empty output folder is written into; an output path that is a file is refused, the file untouched', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'empty'));
  assert.equal(build(EXAMPLE, join(dir, 'empty')).code, 0);
  assert.ok(existsSync(join(dir, 'empty', 'manifest.json')));
  writeFileSync(join(dir, 'file'), 'mine');
  const run = build(EXAMPLE, join(dir, 'file'));
  assert.equal(run.code, 2);
  assert.match(run.stderr, /file exists and is not a folder/);
  assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'mine');
});

test('an output path under a regular file exits 2 with a clear message', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), 'x');
  const run = build(EXAMPLE, join(dir, 'file', 'build'));
  assert.equal(run.code, 2);
  assert.match(run.stderr, /io\/write-failed/);
  assert.match(run.stderr, /not a folder/);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});

test('an output folder that is a symlink is replaced as a link; its target is never written', () => {
  const dir = tempDir();
  const target = join(dir, 'elsewhere');
  mkdirSync(target);
  writeFileSync(join(target, 'passwd'), 'root:x:0:0');
  symlinkSync(target, join(dir, 'build'));
  assert.equal(build(EXAMPLE, join(dir, 'build')).code, 0);
  assert.deepEqual(readdirSync(target), ['passwd']);
  assert.ok(existsSync(join(dir, 'build', 'manifest.json')));
});

test('a full disk: exit 2 saying so, the previous build kept byte for byte, no partial file', { skip: !canMount && 'needs root to mount a small tmpfs' }, () => {
  const disk = smallDisk('size=2m')!;
  try {
    const out = join(disk, 'build');
    assert.equal(build(EXAMPLE, out).code, 0);
    const before = snapshotTree(out);
    // Leave 32 KB free: less than a second copy of the build needs.
    const { bavail, bsize } = statfsSync(disk);
    writeFileSync(join(disk, 'filler'), Buffer.alloc(bavail * bsize - 32 * 1024));
    const run = build(EXAMPLE, out);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /io\/write-failed/);
    assert.match(run.stderr, /the disk is full/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(readdirSync(disk).sort(), ['build', 'filler']);
    assert.deepEqual(snapshotTree(out), before);

    // The same with per-user profiles made on threads: the error stops them, and nothing is left.
    const dir = tempDir();
    writeFileSync(join(dir, 'users.csv'), `name,mail\n${Array.from({ length: 300 }, (_, i) => `u${i},u${i}@example.com`).join('\n')}\n`);
    const fleet = writeFleet('mdmgen: 1\norganization: { name: X, identifier: com.example.x }\ndirectory: { file: users.csv, columns: { user: name, email: mail } }\npreferences:\n  com.microsoft.MessengerDaemon: { UserSIPID: "{{email}}" }\n', dir);
    const threaded = mdmgen(['build', fleet, '-o', join(disk, 'users')], { env: { MDMGEN_THREADS: '2' } });
    assert.equal(threaded.code, 2, threaded.stderr);
    assert.match(threaded.stderr, /the disk is full/);
    assert.deepEqual(readdirSync(disk).sort(), ['build', 'filler']);
  } finally {
    spawnSync('umount', [disk]);
  }
});

test('a read-only disk: exit 2 saying so, nothing written', { skip: !canMount && 'needs root to mount a small tmpfs' }, () => {
  const disk = smallDisk('ro,size=1m')!;
  try {
    const run = build(EXAMPLE, join(disk, 'build'));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /read-only/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(readdirSync(disk), []);
  } finally {
    spawnSync('umount', [disk]);
  }
});
