import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { FolderSiblings } from '../src/audit/audit.js';
import { loadCatalog } from '../src/catalog/catalog.js';
import { auditHereFirst, auditInThreads, auditThreads, DistinctNames, fixedThreads, folderWork, NameBytes, Tally, THREADED_FOLDERS, type Work } from '../src/cli/audit-threads.js';
import { frontier } from '../src/cli/pulled.js';
import { progress } from '../src/cli/progress.js';
import type { Io } from '../src/cli/io.js';
import { writeBinaryPlist } from '../src/plist/write-binary.js';
import { writeXmlPlist } from '../src/plist/write-xml.js';
import { BIN, canMount, HEADER, listTree, mdmgen, ROOT, smallDisk, snapshotTree, tempDir, writeFleet } from './helpers/helpers.js';
import { makePki } from './helpers/pki.js';

// What makes 100,000 users fast (threads, streaming, the manifest written as it goes) must not change a
// byte: every test here builds or audits the same input with and without threads (MDMGEN_THREADS) and
// compares. The figures themselves come from `npm run bench`, never from a test.

const USERS = 700;

function directoryFleet(extra = '', users = USERS): string {
  const dir = tempDir();
  const departments = ['Engineering', 'Legal', 'Sales', ''];
  let csv = 'sAMAccountName,mail,userPrincipalName,department\r\n';
  for (let i = 0; i < users; i++) csv += `user${i},user${i}@example.com,user${i}@CORP.EXAMPLE.COM,${departments[i % 4]}\r\n`;
  writeFileSync(join(dir, 'users.csv'), csv);
  return writeFleet(`${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName, email: mail, upn: userPrincipalName, group: department } }
preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCConfigurationMode: manual, RTCServerAddress: lcs.example.com, RTCTransport: tls, UserSIPID: "{{email}}" }
accounts:
  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{user}}@example.com" }
groups:
  Engineering: { preferences: { com.microsoft.Messenger: { DisallowSave: false } } }
  Legal: {}
  Sales: {}
${extra}`, dir);
}

function buildWith(fleet: string, threads: number): { out: string; stdout: string } {
  const out = join(tempDir(), 'build');
  const run = mdmgen(['build', fleet, '-o', out], { env: { MDMGEN_THREADS: String(threads) } });
  assert.equal(run.code, 0, run.stderr);
  return { out, stdout: run.stdout };
}

test('a build with worker threads writes exactly the bytes of a build without', () => {
  const fleet = directoryFleet();
  const alone = buildWith(fleet, 0);
  const threaded = buildWith(fleet, 2);
  const shown = (stdout: string) => stdout.replace(/mdmgen-test-\w+/g, 'TMP');
  assert.equal(shown(threaded.stdout), shown(alone.stdout));
  assert.match(alone.stdout, new RegExp(`\\(${USERS} of them per-user\\)`));
  assert.deepEqual(snapshotTree(threaded.out), snapshotTree(alone.out));
});

test('a build that stops after its threads started ends at once, says why and writes nothing', () => {
  const fleet = directoryFleet('signing: { certificate: missing.pem, key: missing.key }\n');
  const out = join(tempDir(), 'build');
  const run = mdmgen(['build', fleet, '-o', out], { env: { MDMGEN_THREADS: '2' }, timeout: 30_000 });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /missing\.pem/);
  assert.match(run.stderr, /Nothing was written/);
  assert.deepEqual(listTree(dirname(out)), []);
});

test('a temporary folder too small for the findings: the audit keeps them in memory, and the report is the same', { skip: !canMount && 'needs root to mount a small tmpfs' }, () => {
  const fleet = directoryFleet();
  const tree = pulledTree(300, 'binary');
  const held = mdmgen(['audit', fleet, tree, '--format', 'json']);
  const disk = smallDisk('size=16k')!;
  try {
    const spooled = mdmgen(['audit', fleet, tree, '--format', 'json'], { env: { MDMGEN_SPOOL_LIMIT: '1', TMPDIR: disk } });
    assert.equal(spooled.code, 1, spooled.stderr);
    assert.equal(spooled.stderr, '');
    assert.equal(spooled.stdout, held.stdout);
    assert.ok(held.stdout.length > 64 * 1024, 'more findings than the disk holds');
    assert.deepEqual(readdirSync(disk), []);
  } finally {
    spawnSync('umount', [disk]);
  }
});

test('a build stopped by Ctrl-C or a kill once it is writing removes what it wrote: the previous output is as it was, nothing left beside it', async () => {
  const out = join(tempDir(), 'build');
  assert.equal(mdmgen(['build', directoryFleet('', 10), '-o', out]).code, 0);
  const before = snapshotTree(out);
  const fleet = directoryFleet('', 6000);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const child = spawn(process.execPath, [BIN, 'build', fleet, '-o', out], { env: { ...process.env, NO_COLOR: '1', MDMGEN_THREADS: '0' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let running = true;
    const exited = once(child, 'exit').finally(() => (running = false));
    const staging = `build.mdmgen-new-${child.pid}`;
    while (running && !readdirSync(dirname(out)).includes(staging)) await new Promise((wake) => setTimeout(wake, 2));
    assert.ok(running, `the build ended before it was stopped: ${stderr}`);
    child.kill(signal);
    const [status] = await exited;
    assert.equal(status, code, stderr);
    assert.match(stderr, new RegExp(`mdmgen: stopped by ${signal}; nothing was written, .*build is as it was`));
    assert.deepEqual(readdirSync(dirname(out)), ['build']);
    assert.deepEqual(snapshotTree(out), before);
  }
});

test('signed with threads, every profile is the same signed bytes (RSA is deterministic)', () => {
  const pki = makePki();
  const fleet = directoryFleet(`signing: { certificate: ${pki.path('leaf.pem')}, key: ${pki.path('leaf.key')}, chain: [${pki.path('int.pem')}] }\n`);
  const alone = buildWith(fleet, 0);
  const threaded = buildWith(fleet, 2);
  assert.deepEqual(snapshotTree(threaded.out), snapshotTree(alone.out));
  const der = readFileSync(join(threaded.out, 'profiles/users/user7.mobileconfig'));
  assert.equal(der[0], 0x30, 'a DER SEQUENCE: the profile is signed');
});

test('manifest.json, written as the build goes, is JSON.stringify(manifest, null, 2) listing every file in path order', () => {
  const { out } = buildWith(directoryFleet(), 2);
  const text = readFileSync(join(out, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(text) as { artifacts: { path: string; sha256: string }[] };
  assert.equal(text, `${JSON.stringify(manifest, null, 2)}\n`);
  const paths = manifest.artifacts.map((a) => a.path);
  assert.deepEqual(paths, [...paths].sort());
  assert.deepEqual(paths, listTree(out).filter((p) => p !== 'manifest.json'));
});

test('a build replaces an output folder of 200,000 files (a fleet that large, built before)', () => {
  // On a tmpfs where there is one: 200,000 files on a disk take seconds to make and to delete.
  const dir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/mdmgen-test-') : tempDir();
  try {
    const out = join(dir, 'build');
    mkdirSync(join(out, 'profiles/users'), { recursive: true });
    const artifacts = Array.from({ length: 200_000 }, (_, i) => ({ path: `profiles/users/user${i}.mobileconfig` }));
    for (const { path } of artifacts) writeFileSync(join(out, path), '');
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ artifacts }));
    const run = mdmgen(['build', writeFleet(`${HEADER}preferences: { com.microsoft.Messenger: { DisallowSave: true } }\n`, dir), '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(listTree(out).filter((p) => p.startsWith('profiles/')), ['profiles/base.mobileconfig'], 'the old build is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the library\'s planBuild and the streaming CLI build agree byte for byte', async () => {
  const fleetFile = directoryFleet();
  const mdmgenLib = await import('../src/index.js');
  const { loadPolicy } = await import('../src/cli/load.js');
  const io = { cwd: process.cwd(), env: {}, stdout: () => undefined, stderr: () => undefined, stdoutIsTTY: false, stderrIsTTY: false, now: () => new Date() } as Io;
  const loaded = await loadPolicy(io, fleetFile);
  const plan = await mdmgenLib.planBuild({ fleet: loaded.fleet!, catalog: mdmgenLib.loadCatalog(), fleetBytes: loaded.bytes!, users: loaded.users!, plistFormat: 'xml', version: '0.1.0' });
  const { out } = buildWith(fleetFile, 2);
  const tree = snapshotTree(out);
  assert.equal(Buffer.from(tree['manifest.json']!, 'hex').toString(), plan.manifest.toString());
  for (const a of plan.artifacts) assert.equal(tree[a.path], a.bytes.toString('hex'), a.path);
});

test('a user whose name is another\'s plus a payload suffix would share an identifier: exit 2, nothing written', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), 'name,mail\nalice,a@example.com\nalice.com.microsoft.MessengerDaemon,b@example.com\n');
  const fleet = writeFleet(`${HEADER}directory: { file: users.csv, columns: { user: name, email: mail } }
preferences:
  com.microsoft.MessengerDaemon: { UserSIPID: "{{email}}" }
`, dir);
  const out = join(dir, 'out');
  const run = mdmgen(['build', fleet, '-o', out]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /profiles\/users\/alice\.mobileconfig and profiles\/users\/alice\.com\.microsoft\.MessengerDaemon\.mobileconfig would share the identifier com\.example\.im\.preferences\.user\.alice\.com\.microsoft\.MessengerDaemon/);
  assert.match(run.stderr, /build\/duplicate-identifier/);
  assert.deepEqual(listTree(dir).filter((p) => p.startsWith('out')), []);
});

test('the same clash when the shorter name was made safe (bob smith -> bob-smith-<hash>), and none for a user without a profile', async () => {
  const { safeName } = await import('../src/directory/names.js');
  const renamed = safeName('bob smith');
  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), `name,mail,dept\nbob smith,a@example.com,\n${renamed}.com.microsoft.MessengerDaemon,b@example.com,\ncarol,c@example.com,Static\ncarol.com.microsoft.MessengerDaemon,d@example.com,\n`);
  const fleet = writeFleet(`${HEADER}directory: { file: users.csv, columns: { user: name, email: mail, group: dept } }
preferences:
  com.microsoft.MessengerDaemon: { UserSIPID: "{{email}}" }
groups:
  Static: { preferences: { com.microsoft.MessengerDaemon: { UserSIPID: fixed@example.com } } }
`, dir);
  const run = mdmgen(['build', fleet, '-o', join(dir, 'out')]);
  assert.equal(run.code, 2);
  const clashes = run.stderr.split('\n').filter((line) => line.includes('would share the identifier'));
  assert.deepEqual(clashes.length, 1, run.stderr);
  assert.match(clashes[0]!, new RegExp(`profiles/users/${renamed}\\.mobileconfig and profiles/users/${renamed}\\.com\\.microsoft\\.MessengerDaemon\\.mobileconfig`));
});

test('two accounts whose hosts make one identifier (im.example.com, im-example.com) are refused: exit 2', () => {
  const fleet = writeFleet(`${HEADER}directory: { file: users.csv, columns: { user: name } }
accounts:
  - { type: jabber, host: im.example.com, authentication: kerberos }
  - { type: jabber, host: im-example.com, authentication: kerberos }
`);
  writeFileSync(join(fleet, '..', 'users.csv'), 'name\nbob\n');
  const run = mdmgen(['build', fleet, '-o', join(tempDir(), 'out')]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /would hold the identifier com\.example\.im\.preferences\.user\.bob\.account\.jabber\.im-example-com twice/);
});

function pulledTree(hosts: number, format: 'xml' | 'binary'): string {
  const root = tempDir();
  const write = format === 'binary' ? writeBinaryPlist : writeXmlPlist;
  for (let i = 0; i < hosts; i++) {
    const prefs = join(root, `MAC-${String(i).padStart(3, '0')}`, 'Users', `user${i}`, 'Library', 'Preferences', 'Microsoft');
    mkdirSync(prefs, { recursive: true });
    writeFileSync(join(prefs, 'com.microsoft.Messenger.plist'), write({ DisallowSave: i % 7 !== 0, HideTimeStamp: false, ...(i % 11 === 0 && { DisalowSave: true }) }));
    writeFileSync(join(prefs, 'com.microsoft.MessengerDaemon.plist'), i % 13 === 0 ? Buffer.from('bplist00 broken') : write({ RTCConfigurationMode: 1, RTCServerAddress: 'lcs.example.com', RTCTransport: i % 5 === 0 ? 2 : 4, UserSIPID: `user${i}@example.com` }));
  }
  writeFileSync(join(root, 'stray.plist'), 'not a preference domain');
  return root;
}

test('an audit shared among threads reports exactly what one thread reports, in every format, with a directory or without', () => {
  const fleet = directoryFleet();
  // Without a directory, threads audit each batch as soon as it is read, without asking for its users.
  const noDirectory = writeFleet(readFileSync(fleet, 'utf8').replace(/^directory:.*\n/m, '').replaceAll('{{email}}', 'someone@example.com').replace(/^accounts:\n.*\n/m, ''));
  const tree = pulledTree(300, 'binary');
  for (const [policy, format] of [...['json', 'junit', 'csv', 'sarif', 'stylish'].map((f) => [fleet, f]), [noDirectory, 'json']] as const) {
    const alone = mdmgen(['audit', policy, tree, '--format', format], { env: { MDMGEN_THREADS: '0' } });
    assert.equal(alone.code, 1, alone.stderr);
    // Two threads, and more threads than cores (a large pull gets two per core).
    for (const threads of ['2', '5']) {
      const threaded = mdmgen(['audit', policy, tree, '--format', format], { env: { MDMGEN_THREADS: threads } });
      assert.equal(threaded.code, 1, threaded.stderr);
      assert.equal(threaded.stdout, alone.stdout, `${format}, ${threads} threads, ${policy === fleet ? 'with' : 'without'} a directory`);
    }
  }
  const summary = (JSON.parse(mdmgen(['audit', fleet, tree, '--format', 'json'], { env: { MDMGEN_THREADS: '2' } }).stdout) as { summary: Record<string, number> }).summary;
  assert.deepEqual({ files: summary.files, hosts: summary.hosts, users: summary.users, unreadable: summary.unreadable }, { files: 600, hosts: 300, users: 300, unreadable: 24 });
});

test('the files of Managed Preferences of a Mac, audited by other threads than its users\' own files, give the report one thread gives', () => {
  const fleet = directoryFleet();
  // 150 Macs of three folders each: shared out below the Macs, so a Mac's Library and Users can go to different threads.
  const tree = pulledTree(150, 'binary');
  const plist = (disallowSave: boolean) => writeBinaryPlist({ DisallowSave: disallowSave });
  for (let i = 0; i < 150; i++) {
    const mac = join(tree, `MAC-${String(i).padStart(3, '0')}`);
    mkdirSync(join(mac, 'Volumes'));
    const managed = join(mac, 'Library', 'Managed Preferences');
    mkdirSync(join(managed, `user${i}`), { recursive: true });
    if (i % 3 === 0) writeFileSync(join(managed, 'com.microsoft.Messenger.plist'), plist(true));
    if (i % 5 === 0) writeFileSync(join(managed, `user${i}`, 'com.microsoft.Messenger.plist'), plist(i % 2 === 0));
  }
  const audit = (threads: string) => mdmgen(['audit', fleet, tree, '--format', 'json'], { env: { MDMGEN_THREADS: threads } });
  const alone = audit('0');
  assert.equal(alone.code, 1, alone.stderr);
  for (const threads of ['2', '5']) assert.equal(audit(threads).stdout, alone.stdout, `${threads} threads`);
  const { findings } = JSON.parse(alone.stdout) as { findings: { file: string; key: string | null; message: string }[] };
  const disallowSave = findings.filter((f) => f.key === 'DisallowSave');
  // The users' own files are judged on DisallowSave only on Macs with neither file of Managed Preferences (i % 3 and i % 5 not 0).
  assert.ok(disallowSave.some((f) => !f.file.includes('Managed Preferences')));
  for (const f of disallowSave) {
    const i = Number(/MAC-(\d+)/.exec(f.file)![1]);
    if (!f.file.includes('Managed Preferences')) assert.ok(i % 3 !== 0 && i % 5 !== 0, f.file);
  }
  // Engineering's users (i % 4 === 0) on Macs whose computer's file forces DisallowSave on, without a file of their own there.
  assert.deepEqual(disallowSave.filter((f) => f.message.includes('computer')).map((f) => Number(/MAC-(\d+)/.exec(f.file)![1])), [12, 24, 36, 48, 72, 84, 96, 108, 132, 144]);
});

test('threads added while an audit runs (when the first ones wait for the disk) take shares like the first ones: the same findings', async () => {
  const policy = writeFleet(readFileSync(directoryFleet(), 'utf8').replace(/^directory:.*\n/m, '').replaceAll('{{email}}', 'someone@example.com').replace(/^accounts:\n.*\n/m, ''));
  const tree = pulledTree(300, 'binary');
  const alone = JSON.parse(mdmgen(['audit', policy, tree, '--format', 'json'], { env: { MDMGEN_THREADS: '0' } }).stdout) as { summary: Record<string, number>; findings: Record<string, unknown>[] };
  using tally = new Tally(false, new FolderSiblings(loadCatalog()));
  const setup = { fleetFile: policy, fleetBytes: readFileSync(policy), listAudited: false, askForUsers: false };
  let asked = 0;
  const grow = () => ++asked > 0;
  const { threads } = await auditInThreads(setup, tree, tree, folderWork(frontier(tree, THREADED_FOLDERS, () => undefined), 3), { start: 1, most: 3, grow }, new Map(), tally, () => undefined);
  assert.equal(threads, 3);
  assert.ok(asked >= 2);
  const shown = (f: Record<string, unknown>) => [f.file, f.line ?? null, f.code, f.key, f.severity, f.message];
  assert.deepEqual([...tally.findings].map((f) => shown(f as unknown as Record<string, unknown>)), alone.findings.map(shown));
  assert.deepEqual(tally.summarize(), alone.summary);
});

test('a pull is audited on the command\'s own thread while it keeps its core busy and what is left would take it less than 2 s', () => {
  const plan = { dirs: Array.from({ length: 1000 }, (_, i) => `MAC-${String(i).padStart(4, '0')}`), files: ['a.plist', 'b.plist'] };
  /** Audits here with each share taking `ms` on a fake clock; returns what auditHereFirst said, the shares audited here and the next share left for threads. */
  const run = (ms: number, threads = auditThreads({ cores: 2 }), busy = 1) => {
    const next = folderWork(plan, threads.most);
    const here: Work[] = [];
    let now = 0;
    let cpu = 0;
    const progress: number[] = [];
    const done = auditHereFirst(next, (work) => {
      here.push(work);
      now += ms;
      cpu += ms * busy;
    }, threads.handOver, plan.dirs.length, (units) => progress.push(units), { wall: () => now, cpu: () => cpu });
    return { done, here, progress, rest: next() };
  };
  // 1,000 folders in shares of 32: 32 shares of folders, after one of the top files.
  const quick = run(1);
  assert.equal(quick.done, undefined, 'all audited here');
  assert.deepEqual(quick.here.flatMap((w) => w.dirs), plan.dirs);
  assert.deepEqual(quick.here[0]!.files, plan.files);
  assert.equal(quick.progress.at(-1), 1000);
  // The first share of folders is not timed (the code is being compiled). At 80 ms a share, the 936
  // folders left after the second would take 2.3 s: threads take over.
  const slow = run(80);
  assert.equal(slow.done, 64);
  assert.equal(slow.here.length, 3);
  assert.deepEqual(slow.rest!.dirs[0], plan.dirs[64], 'threads go on from the first share not audited here');
  assert.equal(run(60).done, undefined, 'at 60 ms a share, 1.75 s would be left after the second: less than the 2 s threads are worth');
  // A thread that waits for the disk more than it works hands over after its first share of folders.
  assert.equal(run(1, auditThreads({ cores: 2 }), 0.5).done, 32);
  assert.equal(run(1, auditThreads({ cores: 2 }), 0.8).done, undefined);
  // MDMGEN_THREADS: threads from the first share.
  assert.equal(run(1, fixedThreads(2)).done, 0);
  assert.equal(run(1, fixedThreads(2)).here.length, 0);
});

test('a pull begun on the command\'s thread and handed to threads gives the report one thread gives', () => {
  const fleet = directoryFleet();
  const tree = pulledTree(300, 'binary');
  const alone = mdmgen(['audit', fleet, tree, '--format', 'json'], { env: { MDMGEN_THREADS: '0' } });
  // With no time to pay back, the first share of folders is audited here and the rest by threads.
  const handed = mdmgen(['audit', fleet, tree, '--format', 'json'], { env: { MDMGEN_THREAD_PAYBACK_MS: '0' } });
  assert.equal(handed.code, alone.code, handed.stderr);
  assert.equal(handed.stdout, alone.stdout);
});

test('findings beyond what the audit holds in memory go to a temporary file and come back in order: the same report in every format, no file left', () => {
  const fleet = directoryFleet();
  const tree = pulledTree(300, 'binary');
  for (const format of ['json', 'junit', 'csv', 'sarif', 'stylish', 'html']) {
    const held = mdmgen(['audit', fleet, tree, '--format', format]);
    assert.equal(held.code, 1, held.stderr);
    // A limit of one byte writes every share (and, on one thread, every finding) to the file as its own run.
    for (const threads of ['0', '2']) {
      const tmp = tempDir();
      const spooled = mdmgen(['audit', fleet, tree, '--format', format], { env: { MDMGEN_THREADS: threads, MDMGEN_SPOOL_LIMIT: '1', TMPDIR: tmp } });
      assert.equal(spooled.code, 1, spooled.stderr);
      assert.equal(spooled.stdout, held.stdout, `${format}, ${threads} threads`);
      assert.deepEqual(readdirSync(tmp), []);
    }
  }
});

test('a large zip shared among threads gives what one thread gives, also when its directory breaks off part-way', () => {
  const fleet = directoryFleet();
  const tree = pulledTree(300, 'binary');
  const dir = tempDir();
  const [whole, broken] = [join(dir, 'pulls.zip'), join(dir, 'broken.zip')];
  // 100,000 folder entries first, so the zip has enough records for threads (THREADED_ENTRIES), then the pulls.
  execFileSync('python3', ['-c', `
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(100000):
        z.writestr(zipfile.ZipInfo('empty/%06d/' % i), b'')
    for base, _, names in sorted(os.walk(sys.argv[1])):
        for name in sorted(names):
            path = os.path.join(base, name)
            z.write(path, os.path.relpath(path, sys.argv[1]))
data = bytearray(open(sys.argv[2], 'rb').read())
# The directory record of the 200th plist loses its signature: the records before it are read, the rest are not.
at = data.index(b'MAC-', data.rindex(b'PK\x05\x06') - 200 * 120)
record = data.rindex(b'PK\x01\x02', 0, at)
data[record:record + 4] = b'XXXX'
open(sys.argv[3], 'wb').write(data)
`, tree, whole, broken]);
  for (const [zip, policy] of [[whole, fleet], [broken, fleet], [whole, writeFleet(readFileSync(fleet, 'utf8').replace(/^directory:.*\n/m, '').replaceAll('{{email}}', 'someone@example.com').replace(/^accounts:\n.*\n/m, ''))]] as const) {
    const alone = mdmgen(['audit', policy, zip, '--format', 'json'], { env: { MDMGEN_THREADS: '0' } });
    const threaded = mdmgen(['audit', policy, zip, '--format', 'json'], { env: { MDMGEN_THREADS: '2' } });
    assert.equal(alone.code, 1, alone.stderr);
    assert.equal(threaded.stdout, alone.stdout, zip);
    const { summary, findings } = JSON.parse(alone.stdout) as { summary: Record<string, number>; findings: { file: string; code: string }[] };
    if (zip === whole) assert.equal(summary.files, 600);
    else {
      assert.ok(summary.files! > 100 && summary.files! < 600, `${summary.files} plists before the break`);
      assert.deepEqual(findings.filter((f) => f.file === zip).map((f) => f.code), ['audit/unreadable']);
    }
  }
});

test('a host or user is counted once, however many batches, threads or PATHs its plists come through', () => {
  const fleet = directoryFleet();
  const tree = pulledTree(300, 'binary');
  // The same Macs pulled again, on another day, into another folder.
  const again = join(tempDir(), 'again');
  cpSync(tree, again, { recursive: true });
  for (const threads of ['0', '2']) {
    const run = mdmgen(['audit', fleet, tree, again, '--format', 'json'], { env: { MDMGEN_THREADS: threads } });
    const { summary } = JSON.parse(run.stdout) as { summary: Record<string, number> };
    assert.deepEqual({ files: summary.files, hosts: summary.hosts, users: summary.users }, { files: 1200, hosts: 300, users: 300 }, `${threads} threads`);
  }
  const names = new DistinctNames();
  for (let i = 0; i < 10_000; i++) names.add(`MAC-${i % 6000}`);
  const batch = new NameBytes();
  // A zip entry's name may hold '\0'; a name of 300 bytes takes two bytes of length.
  for (const name of ['MAC-1', 'MAC-1', 'MAC-6000', 'Kévin’s Mac ☕', 'MAC-1\0MAC-2', 'M'.repeat(300)]) batch.add(name);
  names.addChunk(batch.take());
  names.addChunk(batch.take());
  names.add('MAC-6001');
  names.add('M'.repeat(300));
  assert.equal(names.count(), 6005);
});

function fakeIo(tty: boolean): Io & { err: string[] } {
  const err: string[] = [];
  return { err, cwd: '/', env: {}, stdout: () => undefined, stderr: (t) => void err.push(t), stdoutIsTTY: false, stderrIsTTY: tty, now: () => new Date(0) };
}

test('the progress bar shows done, total and an ETA on a terminal, at most ten times a second, and clears itself', () => {
  const io = fakeIo(true);
  let now = 0;
  const bar = progress(io, 'user profiles', 100_000, () => now);
  now = 2000;
  bar.update(25_000);
  now = 2050;
  bar.update(26_000); // within 100 ms: not drawn
  now = 4000;
  bar.update(50_000);
  bar.finish();
  assert.equal(io.err.length, 3);
  assert.equal(io.err[0], '\r[######..................] 25,000/100,000 user profiles 2.0 s, 6 s left\x1b[K');
  assert.match(io.err[1]!, /\[############\.{12}\] 50,000\/100,000 user profiles 4\.0 s, 4 s left/);
  assert.equal(io.err[2], '\r\x1b[K');
});

test('no progress bar when stderr is not a terminal, or for a small run', () => {
  for (const [tty, total] of [[false, 100_000], [true, 10]] as const) {
    const io = fakeIo(tty);
    const bar = progress(io, 'plists', total, () => 5000);
    bar.update(total / 2);
    bar.finish();
    assert.deepEqual(io.err, []);
  }
});

test('a large archive shows a progress bar too: a zip by its entries, a tar.gz by the kilobytes read', async () => {
  const dir = tempDir();
  const plist = join(ROOT, 'examples/pulled/MAC-0101/Users/jdoe/Library/Preferences/Microsoft/com.microsoft.Messenger.plist');
  execFileSync('python3', ['-c', `
import os, sys, tarfile, zipfile
data = open(sys.argv[1], 'rb').read()
with zipfile.ZipFile(sys.argv[2] + '/pulls.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(1200):
        z.writestr('MAC-%d/u/com.microsoft.Messenger.plist' % i, data)
os.makedirs(sys.argv[2] + '/t/MAC-1/u')
open(sys.argv[2] + '/t/MAC-1/u/com.microsoft.Messenger.plist', 'wb').write(data)
open(sys.argv[2] + '/t/MAC-1/u/noise.bin', 'wb').write(os.urandom(1500 * 1024))
with tarfile.open(sys.argv[2] + '/pulls.tar.gz', 'w:gz') as t:
    t.add(sys.argv[2] + '/t/MAC-1', 'MAC-1')
`, plist, dir]);
  const { audit } = await import('../src/cli/audit.js');
  for (const [archive, line] of [['pulls.zip', /\] [\d,]+\/1,200 entries of pulls\.zip /], ['pulls.tar.gz', /\] [\d,]+\/1,5\d\d KB of pulls\.tar\.gz /]] as const) {
    const io = { ...fakeIo(true), cwd: dir };
    const code = await audit(io, join(ROOT, 'examples/fleet.yaml'), [archive], { format: 'json', failOn: 'error' });
    assert.notEqual(code, 2, io.err.join(''));
    assert.match(io.err.join(''), line, archive);
    assert.equal(io.err.at(-1), '\r\x1b[K', 'the bar clears itself');
  }
});
