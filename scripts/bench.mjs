// npm run bench [-- --users N] (the last script of the chain, so the arguments reach it): measures,
// never asserts. On a synthetic fleet of N users (default 100,000): builds (unsigned, RSA-2048-signed,
// EC-signed) and audits (binary and XML pulls, and the binary one as a zip and a tar.gz), each next to a
// reference measured in the same run: the file-system floor (the same bytes written and nothing else), the
// signing bound (`openssl speed -multi <cores> rsa2048`), a Python plistlib audit of the same pull and the
// audit's I/O floor, in Node and in C (the audits in --audit-rounds rounds, default 3, each ratio the median
// of the rounds' own; the unsigned build too). Also startup (`--help` against `node -e 0`), the bundled example, peak RSS
// at N/10 and N, determinism of the N build (two builds, same bytes), manifest completeness, and a sample
// of signatures checked by `openssl cms -verify`. Nothing is deleted until the end: on ext4, files created
// right after a large delete were measured at up to five times their usual cost, which would make every
// later figure noise.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBinaryPlist } from '../dist/src/plist/write-binary.js';
import { writeXmlPlist } from '../dist/src/plist/write-xml.js';
import { readPlist } from '../dist/src/plist/read.js';
import { auditThreads } from '../dist/src/cli/audit-threads.js';

const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, runs: { type: 'string', default: '15' }, 'audit-rounds': { type: 'string', default: '3' }, dir: { type: 'string' } } });
const N = Number(values.users);
const small = Math.max(100, Math.floor(N / 10));
const runs = Number(values.runs);
const auditRounds = Number(values['audit-rounds']);
const cores = availableParallelism();
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/mdmgen.js');
const work = mkdtempSync(join(values.dir ?? tmpdir(), 'mdmgen-bench-'));
const gnuTime = existsSync('/usr/bin/time');
const log = (text) => process.stderr.write(`${text}\n`);

/** One run of a command: wall and CPU seconds, peak RSS, stdout. */
function run(command, args, options = {}, okStatus = [0]) {
  const start = process.hrtime.bigint();
  const result = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, ...options })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (!okStatus.includes(result.status)) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const [user, sys, rssKb] = gnuTime ? result.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN, NaN];
  return { wall, cpu: user + sys, rssMb: rssKb / 1024, stdout: result.stdout };
}

/** The middle one of a list, by `key`. */
const middle = (list, key = (x) => x) => [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)];

function median(command, args, n = runs) {
  run(command, args); // warm the file cache
  const samples = Array.from({ length: n }, () => run(command, args)).sort((a, b) => a.wall - b.wall);
  return samples[Math.floor(n / 2)];
}

// Startup and the bundled example.
// mdmgen runs as a user runs it, by its shebang, not through `node bin/mdmgen.js`.
const bare = median(process.execPath, ['-e', '0']);
const help = median(bin, ['--help']);
const validateExample = median(bin, ['validate', join(root, 'examples/fleet.yaml')]);
const buildExample = median(bin, ['build', join(root, 'examples/fleet.yaml'), '-o', join(work, 'example')]);

// A test PKI: a root, and an RSA-2048 and an EC P-256 signer it issued.
log('making the test PKI');
const openssl = (...args) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
writeFileSync(join(work, 'ext.cnf'), '[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/CN=Bench Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
for (const [name, key] of [['rsa', ['rsa:2048']], ['ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']]]) {
  openssl('req', '-newkey', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=Bench ${name} signer`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', `${name}.pem`);
}

// The directory and the fleets.
const departments = ['Engineering', 'Legal', 'Sales', 'Support', ''];
function directory(count) {
  let csv = 'sAMAccountName,mail,userPrincipalName,department,displayName\r\n';
  for (let i = 0; i < count; i++) csv += `user${i},user${i}@example.com,user${i}@CORP.EXAMPLE.COM,${departments[i % 5]},"User, Number ${i}"\r\n`;
  return csv;
}
function fleet(name, count, signing = '') {
  const dir = join(work, `fleet-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'users.csv'), directory(count));
  writeFileSync(join(dir, 'fleet.yaml'), `mdmgen: 1
organization: { name: Bench Corp, identifier: com.example.bench }
directory: { file: users.csv, columns: { user: sAMAccountName, email: mail, upn: userPrincipalName, group: department } }
preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCConfigurationMode: manual, RTCServerAddress: lcs.example.com, RTCTransport: tls, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019, EnableKerberosLogin: true, UserLogonName: "{{upn}}", UserSIPID: "{{email}}" }
accounts:
  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{user}}@example.com" }
groups:
  Engineering: { preferences: { com.microsoft.Messenger: { DisallowSave: false } } }
  Legal: {}
  Sales: {}
  Support: {}
${signing}`);
  return join(dir, 'fleet.yaml');
}
const signingWith = (name) => `signing: { certificate: ../${name}.pem, key: ../${name}.key }\n`;
const fleets = { small: fleet('small', small), unsigned: fleet('unsigned', N), rsa: fleet('rsa', N, signingWith('rsa')), ec: fleet('ec', N, signingWith('ec')) };

// Each write starts with nothing left to write back from the one before (a build and then its floor put
// 200,000 files' worth of dirty pages on this disk), so a build and its floor are timed alike.
const build = (fleetFile, out) => {
  execFileSync('sync');
  log(`build ${fleetFile} -> ${out}`);
  return run(bin, ['build', fleetFile, '-o', join(work, out)]);
};
// The file-system floor: a build's bytes, read into memory, written to a new folder by one thread, and
// nothing else. It is measured right after the build it is compared with: this disk's speed drifts.
const FLOOR = `
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const [from, to] = process.argv.slice(1);
const files = [];
const walk = (rel) => { for (const e of readdirSync(join(from, rel), { withFileTypes: true })) { const r = rel ? rel + '/' + e.name : e.name; if (e.isDirectory()) walk(r); else files.push([r, readFileSync(join(from, r))]); } };
walk('');
const start = process.hrtime.bigint();
const made = new Set();
for (const [rel, bytes] of files) { const d = dirname(join(to, rel)); if (!made.has(d)) { mkdirSync(d, { recursive: true }); made.add(d); } writeFileSync(join(to, rel), bytes, { flag: 'wx' }); }
console.log(Number(process.hrtime.bigint() - start) / 1e9);
`;
const floorOf = (from) => {
  execFileSync('sync');
  log(`file-system floor of ${from}`);
  return Number(run(process.execPath, ['--input-type=module', '-e', FLOOR, join(work, from), join(work, `floor-${from}`)]).stdout.trim());
};
const buildSmall = build(fleets.small, 'build-small');
// The unsigned build, the target's own row, in rounds like the audits: the same build on this disk took
// 9.1 s in one run and 15.6 s in the next. Two of them also give the determinism check its two builds.
const unsignedRounds = Array.from({ length: Math.max(2, auditRounds) }, (_, r) => {
  const out = `build-unsigned-${r}`;
  const result = build(fleets.unsigned, out);
  return { ...result, floor: floorOf(out) };
});
const unsigned = middle(unsignedRounds, (r) => r.wall / r.floor);
const rsa = build(fleets.rsa, 'build-rsa');
const floorSigned = floorOf('build-rsa');
const ec = build(fleets.ec, 'build-ec');
const floorEc = floorOf('build-ec');

// The signing bound: RSA-2048 signatures per second on every core.
log('openssl speed');
const speed = (alg) => Number(/\s([\d.]+)\s+[\d.]+\s*$/m.exec(openssl('speed', '-multi', String(cores), '-seconds', '5', alg).trim().split('\n').at(-1))?.[1]);
const rsaPerSecond = speed('rsa2048');
const ecPerSecond = speed('ecdsap256');

// Correctness at scale.
log('checking the builds');
const tree = (dir) => {
  const files = new Map();
  const walk = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files.set(r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex'));
    }
  };
  walk('');
  return files;
};
const first = tree(join(work, 'build-unsigned-0'));
const second = tree(join(work, 'build-unsigned-1'));
const identical = first.size === second.size && [...first].every(([path, hash]) => second.get(path) === hash);
const manifest = JSON.parse(readFileSync(join(work, 'build-unsigned-0/manifest.json'), 'utf8'));
const complete = manifest.artifacts.length === first.size - 1 && manifest.artifacts.every((a) => first.get(a.path) === a.sha256);
const signedProfiles = readdirSync(join(work, 'build-rsa/profiles/users'));
const sample = Array.from({ length: 20 }, (_, i) => signedProfiles[Math.floor((i * signedProfiles.length) / 20)]);
const verified = sample.filter((name) => spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(work, 'build-rsa/profiles/users', name), '-CAfile', join(work, 'root.pem'), '-purpose', 'any', '-out', '/dev/null'], { stdio: 'ignore' }).status === 0).length;

// Pulled trees: every user's two plists, one in 97 with DisallowSave off.
const ui = { DisallowSave: true, HideTimeStamp: false, ContactWindowSize: '220, 540', ShowGroups: true, NewMessageSound: 'Glass' };
const daemon = { RTCConfigurationMode: 1, RTCServerAddress: 'lcs.example.com', RTCTransport: 4, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019, SIPSignInStatus: 1, UserSIPID: 'someone@example.com' };
function pulled(count, format) {
  const dir = join(work, `pulled-${format}-${count}`);
  log(`pulled tree ${dir}`);
  const write = format === 'binary' ? writeBinaryPlist : writeXmlPlist;
  const [uiBytes, deviant, daemonBytes] = [write(ui), write({ ...ui, DisallowSave: false }), write(daemon)];
  for (let i = 0; i < count; i++) {
    const prefs = join(dir, `MAC-${i}`, 'Users', `user${i}`, 'Library/Preferences/Microsoft');
    mkdirSync(prefs, { recursive: true });
    writeFileSync(join(prefs, 'com.microsoft.Messenger.plist'), i % 97 === 0 ? deviant : uiBytes);
    writeFileSync(join(prefs, 'com.microsoft.MessengerDaemon.plist'), daemonBytes);
  }
  return dir;
}
// The peer: the same checks with Python's plistlib, over a folder (os.walk), a zip (zipfile) or a tar.gz
// (tarfile, streamed), each plist read once.
const PEER = `
import json, os, plistlib, sys, tarfile, zipfile
path, expected = sys.argv[1], json.loads(sys.argv[2])
findings = files = 0
def check(name, read):
    global findings, files
    domain = os.path.basename(name)[:-6]
    if not name.endswith('.plist') or domain not in expected:
        return
    values = plistlib.loads(read())
    files += 1
    for key, want in expected[domain].items():
        got = values.get(key)
        if got is None or type(got) is not type(want) or got != want:
            findings += 1
if path.endswith('.zip'):
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            check(info.filename, lambda: z.read(info))
elif path.endswith('.tar.gz'):
    with tarfile.open(path, 'r|gz') as t:
        for member in t:
            if member.isfile():
                check(member.name, lambda: t.extractfile(member).read())
else:
    for base, _, names in os.walk(path):
        for name in names:
            check(name, lambda: open(os.path.join(base, name), 'rb').read())
print(files, findings)
`;
// The audit's policy is the peer's: no directory, so every plist is checked against the same forced keys.
const auditFleet = join(work, 'audit.yaml');
writeFileSync(auditFleet, `mdmgen: 1
organization: { name: Bench Corp, identifier: com.example.bench }
preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCConfigurationMode: manual, RTCServerAddress: lcs.example.com, RTCTransport: tls, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019 }
`);
const expected = JSON.stringify({ 'com.microsoft.Messenger': { DisallowSave: true }, 'com.microsoft.MessengerDaemon': { RTCConfigurationMode: 1, RTCServerAddress: 'lcs.example.com', RTCTransport: 4, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019 } });
// The audit's I/O floor: list every folder and read every file, with as many threads as the audit may
// have (two per core), nothing else (no parsing).
writeFileSync(join(work, 'read-floor.mjs'), `
import { readdirSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(d + '/' + e.name); else readFileSync(d + '/' + e.name); } };
if (isMainThread) {
  const root = process.argv[2];
  const tops = readdirSync(root);
  const n = Number(process.argv[3]);
  await Promise.all(Array.from({ length: n }, (_, k) => new Promise((done) => new Worker(new URL(import.meta.url), { workerData: { root, tops: tops.filter((_, i) => i % n === k) } }).on('exit', done))));
} else for (const top of workerData.tops) walk(workerData.root + '/' + top);
`);
// The same I/O floor in C (scripts/walk-floor.c, one thread per core): how much faster than Python any
// program that lists and reads the pull could be. Left out where no C compiler is found.
const cFloorBin = join(work, 'walk-floor');
const cFloorBuilt = spawnSync('cc', ['-O2', '-pthread', '-o', cFloorBin, join(root, 'scripts/walk-floor.c')], { stdio: 'ignore' }).status === 0;
// Where an audit's time goes: the same walk with mdmgen's own functions, stopped after listing the
// folders, after reading the files, and after parsing the plists (no checks, no report, no thread
// started twice), on as many threads as an audit starts with.
writeFileSync(join(work, 'stages.mjs'), `
import { readdirSync } from 'node:fs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
if (isMainThread) {
  const [root, stage, n] = [process.argv[2], process.argv[3], Number(process.argv[4])];
  const tops = readdirSync(root);
  await Promise.all(Array.from({ length: n }, (_, k) => new Promise((done) => new Worker(new URL(import.meta.url), { workerData: { root, stage, tops: tops.filter((_, i) => i % n === k) } }).on('exit', done))));
} else {
  const { walkFiles, readPulled } = await import(${JSON.stringify(new URL('../dist/src/cli/pulled.js', import.meta.url).href)});
  const { readPlist } = await import(${JSON.stringify(new URL('../dist/src/plist/read.js', import.meta.url).href)});
  const { root, stage, tops } = workerData;
  for (const top of tops) walkFiles(root, top, (rel) => {
    if (stage === 'list') return;
    const file = readPulled(root, root, rel, '-');
    if (stage === 'parse') readPlist(file.bytes);
  }, () => undefined);
}
`);
const audits = {};
let stages;
for (const [format, count] of [['binary', small], ['binary', N], ['xml', N]]) {
  const dir = pulled(count, format);
  execFileSync('sync');
  const floorArgs = [join(work, 'read-floor.mjs'), dir, String(auditThreads().most)];
  // Whoever reads a tree first right after it was written pays for it (measured: the same audit took 23 s
  // first and 9 s second), so one unmeasured walk comes before the measured ones.
  run(process.execPath, floorArgs);
  log(`audit ${dir}`);
  // On this virtual machine, cached folders and files not touched for a few minutes are read from the
  // disk again (the same walk took 2.3 s, then 23 s some minutes later), so the three are measured in
  // rounds, each round in another order, and each ratio within a round.
  const measure = {
    mine: () => run(bin, ['audit', auditFleet, dir, '--format', 'json'], {}, [0, 1]),
    peer: () => run('python3', ['-c', PEER, dir, expected]),
    readFloor: () => run(process.execPath, floorArgs),
    ...(cFloorBuilt && { cFloor: () => run(cFloorBin, [dir, String(cores)]) }),
  };
  const order = Object.keys(measure);
  const rounds = Array.from({ length: auditRounds }, (_, r) => {
    const round = {};
    for (const name of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) round[name] = measure[name]();
    return round;
  });
  const pick = (name) => middle(rounds.map((round) => round[name]), (run) => run.wall);
  const mine = pick('mine');
  const peer = pick('peer');
  audits[`${format}-${count}`] = {
    mine, peer, readFloor: pick('readFloor'), cFloor: cFloorBuilt ? pick('cFloor') : null, errors: JSON.parse(mine.stdout).summary.errors, peerFindings: Number(peer.stdout.trim().split(' ')[1]),
    faster: rounds.map((round) => round.peer.wall / round.mine.wall), ofFloor: rounds.map((round) => round.mine.wall / round.readFloor.wall),
  };
  if (format === 'binary' && count === N) {
    const threads = auditThreads().start;
    log(`audit stages of ${dir}`);
    stages = { threads, peer, mine, ...Object.fromEntries(['list', 'read', 'parse'].map((stage) => [stage, run(process.execPath, [join(work, 'stages.mjs'), dir, stage, String(threads)])])) };
  }
}
// The same binary pull against the directory's fleet, which no Mac of it matches (each Mac's UserSIPID and
// UserLogonName are not its user's): three findings a Mac, all held until the report is sorted and written.
log('audit of a pull off its policy');
const offPolicy = run(bin, ['audit', fleets.unsigned, join(work, `pulled-binary-${N}`)], {}, [1]);
const offPolicyFindings = Number(/^(\d+) findings/m.exec(offPolicy.stdout)?.[1]);

// The binary pull of N Macs as a zip (with its folders, as zip -r writes it) and as a tar.gz, each audited
// from the archive by mdmgen and by the peer (no I/O floor: the archive is one file read once).
const archives = {};
for (const [kind, make] of [['zip', (dir, out) => execFileSync('zip', ['-qr', out, '.'], { cwd: dir })], ['tar.gz', (dir, out) => execFileSync('tar', ['-czf', out, '-C', dir, '.'])]]) {
  const archive = join(work, `pulled-binary-${N}.${kind}`);
  log(`making ${archive}`);
  make(join(work, `pulled-binary-${N}`), archive);
  execFileSync('sync');
  const rounds = Array.from({ length: auditRounds }, (_, r) => {
    const mine = () => run(bin, ['audit', auditFleet, archive, '--format', 'json'], {}, [0, 1]);
    const peer = () => run('python3', ['-c', PEER, archive, expected]);
    return r % 2 === 0 ? { mine: mine(), peer: peer() } : { peer: peer(), mine: mine() };
  });
  const mine = middle(rounds.map((round) => round.mine), (run) => run.wall);
  const peer = middle(rounds.map((round) => round.peer), (run) => run.wall);
  archives[kind] = { mine, peer, errors: JSON.parse(mine.stdout).summary.errors, peerFindings: Number(peer.stdout.trim().split(' ')[1]), faster: rounds.map((round) => round.peer.wall / round.mine.wall) };
}

const xml = writeXmlPlist(daemon);
for (let i = 0; i < 2000; i++) readPlist(xml);
const parseStart = process.hrtime.bigint();
for (let i = 0; i < 20000; i++) readPlist(xml);
const xmlParseUs = Number(process.hrtime.bigint() - parseStart) / 1e3 / 20000;

// The table.
const s = (x) => (Number.isNaN(x) ? '-' : `${x.toFixed(2)} s`);
const mb = (x) => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} MB`);
const per = (x, n, unit = 'µs') => `${((x / n) * 1e6).toFixed(0)} ${unit}`;
const row = (cells) => `| ${cells.join(' | ')} |`;
const spread = (ratios) => `${middle(ratios).toFixed(2)}x${ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})` : ''}`;
const lines = [
  `mdmgen bench: ${cpus()[0]?.model.trim()}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${openssl('version').trim()}; ${N.toLocaleString('en-US')} users; work folder ${work}`,
  '',
  row(['run', 'items', 'wall', 'CPU', 'peak RSS', 'per item', 'reference (same run)', 'ratio', 'target']),
  row(Array(9).fill('---')),
  row(['`node -e 0`', '-', `${(bare.wall * 1000).toFixed(0)} ms`, '-', mb(bare.rssMb), '-', '-', '-', '-']),
  row(['`mdmgen --help`', '-', `${(help.wall * 1000).toFixed(0)} ms`, '-', mb(help.rssMb), '-', 'node -e 0', `${(help.wall / bare.wall).toFixed(2)}x`, '<= 1.5x']),
  row(['validate examples/fleet.yaml', '-', `${(validateExample.wall * 1000).toFixed(0)} ms`, '-', mb(validateExample.rssMb), '-', '-', '-', '< 300 ms']),
  row(['build examples/fleet.yaml', '-', `${(buildExample.wall * 1000).toFixed(0)} ms`, '-', mb(buildExample.rssMb), '-', '-', '-', '< 300 ms']),
  row([`build, ${small.toLocaleString('en-US')} users`, `${small} profiles`, s(buildSmall.wall), s(buildSmall.cpu), mb(buildSmall.rssMb), per(buildSmall.wall, small), '-', '-', '<= 300 MB']),
  row([`build, ${N.toLocaleString('en-US')} users, unsigned`, `${N} profiles`, s(unsigned.wall), s(unsigned.cpu), mb(unsigned.rssMb), per(unsigned.wall, N), `file-system floor ${s(unsigned.floor)}`, spread(unsignedRounds.map((r) => r.wall / r.floor)), '<= 1.5x, <= 300 MB']),
  row(['build, RSA-2048-signed', `${N} profiles`, s(rsa.wall), s(rsa.cpu), mb(rsa.rssMb), per(rsa.wall, N), `openssl ${rsaPerSecond.toFixed(0)} sign/s on ${cores} cores = ${s(N / rsaPerSecond)}, + floor ${s(floorSigned)}`, `${(rsa.wall / (N / rsaPerSecond + floorSigned)).toFixed(2)}x`, '<= 1.5x']),
  row(['build, EC P-256-signed', `${N} profiles`, s(ec.wall), s(ec.cpu), mb(ec.rssMb), per(ec.wall, N), `openssl ${ecPerSecond.toFixed(0)} sign/s = ${s(N / ecPerSecond)}, + floor ${s(floorEc)}`, `${(ec.wall / (N / ecPerSecond + floorEc)).toFixed(2)}x`, 'reported']),
];
for (const [key, a] of Object.entries(audits)) {
  const [format, count] = key.split('-');
  const files = Number(count) * 2;
  lines.push(row([`audit, ${format} plists`, `${files} plists`, s(a.mine.wall), s(a.mine.cpu), mb(a.mine.rssMb), per(a.mine.wall, files), `Python plistlib ${s(a.peer.wall)} (${mb(a.peer.rssMb)}); I/O floor ${s(a.readFloor.wall)}${a.cFloor ? `, in C ${s(a.cFloor.wall)} (Python ${(a.peer.wall / a.cFloor.wall).toFixed(2)}x it)` : ''}`, `${spread(a.faster)} faster; ${spread(a.ofFloor)} the floor`, `>= 5x; errors ${a.errors} / peer ${a.peerFindings}`]));
}
lines.push(row(['audit, binary plists, every Mac off its policy (stylish)', `${N * 2} plists, ${offPolicyFindings} findings`, s(offPolicy.wall), s(offPolicy.cpu), mb(offPolicy.rssMb), per(offPolicy.wall, N * 2), '-', '-', 'reported']));
for (const [kind, a] of Object.entries(archives)) {
  lines.push(row([`audit, binary plists in a ${kind}`, `${N * 2} plists`, s(a.mine.wall), s(a.mine.cpu), mb(a.mine.rssMb), per(a.mine.wall, N * 2), `Python plistlib ${s(a.peer.wall)} (${mb(a.peer.rssMb)})`, `${spread(a.faster)} faster`, `reported; errors ${a.errors} / peer ${a.peerFindings}`]));
}
lines.push('', `determinism: the two unsigned builds are ${identical ? 'byte-identical' : 'DIFFERENT'} (${first.size} files); manifest.json ${complete ? 'lists every file with its SHA-256' : 'is INCOMPLETE'}; openssl cms -verify: ${verified}/${sample.length} sampled RSA-signed profiles verify.`);
lines.push(`stages of the binary audit of ${(N * 2).toLocaleString('en-US')} plists, on ${stages.threads} threads with mdmgen's own walk, reads and parser, once each after the rounds: folders listed ${s(stages.list.wall)}; and files read ${s(stages.read.wall)}; and plists parsed ${s(stages.parse.wall)}, where Python's whole audit (its median) took ${(stages.peer.wall / stages.parse.wall).toFixed(2)} times as long; the audit's median ${s(stages.mine.wall)}.`);
lines.push(`one XML plist of ${xml.length} bytes parses in ${xmlParseUs.toFixed(1)} µs (target <= 60 µs).`);
console.log(lines.join('\n'));
log('removing the work folder');
rmSync(work, { recursive: true, force: true });
