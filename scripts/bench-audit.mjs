// npm run bench:audit [-- --users N]: audit N pulled Macs (two plists each) with mdmgen, next to a Python
// plistlib script doing the same reading and comparing in the same run. Also the cost of one XML parse,
// and peak memory at N and N/10 (it should not grow with the fleet). Measures; asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readPlist } from '../dist/src/plist/read.js';
import { writeBinaryPlist } from '../dist/src/plist/write-binary.js';
import { writeXmlPlist } from '../dist/src/plist/write-xml.js';

const { values } = parseArgs({ options: { users: { type: 'string', default: '10000' } } });
const users = Number(values.users);
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mdmgen-bench-audit-'));
const fleet = join(work, 'fleet.yaml');
writeFileSync(fleet, `mdmgen: 1
organization: { name: Bench Corp, identifier: com.example.bench }
preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCConfigurationMode: manual, RTCServerAddress: lcs.example.com, RTCTransport: tls, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019 }
`);
const ui = { DisallowSave: true, HideTimeStamp: false, ContactWindowSize: '220, 540', ShowGroups: true, NewMessageSound: 'Glass' };
const daemon = { RTCConfigurationMode: 1, RTCServerAddress: 'lcs.example.com', RTCTransport: 4, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019, SIPSignInStatus: 1, UserSIPID: 'someone@example.com' };

function tree(count, format) {
  const dir = join(work, `pulled-${format}-${count}`);
  const write = format === 'binary' ? writeBinaryPlist : writeXmlPlist;
  const uiBytes = write(ui);
  const deviant = write({ ...ui, DisallowSave: false });
  const daemonBytes = write(daemon);
  for (let i = 0; i < count; i++) {
    const prefs = join(dir, `MAC-${i}`, 'Users', `user${i}`, 'Library/Preferences/Microsoft');
    mkdirSync(prefs, { recursive: true });
    writeFileSync(join(prefs, 'com.microsoft.Messenger.plist'), i % 97 === 0 ? deviant : uiBytes);
    writeFileSync(join(prefs, 'com.microsoft.MessengerDaemon.plist'), daemonBytes);
  }
  return dir;
}

const PEER = `
import json, os, plistlib, sys
expected = json.loads(sys.argv[2])
findings = 0
files = 0
for base, _, names in os.walk(sys.argv[1]):
    for name in names:
        domain = name[:-6]
        if domain not in expected:
            continue
        with open(os.path.join(base, name), 'rb') as f:
            values = plistlib.load(f)
        files += 1
        for key, want in expected[domain].items():
            got = values.get(key)
            if got is None or type(got) is not type(want) or got != want:
                findings += 1
print(files, findings)
`;
const expected = JSON.stringify({ 'com.microsoft.Messenger': { DisallowSave: true, HideTimeStamp: false }, 'com.microsoft.MessengerDaemon': { RTCConfigurationMode: 1, RTCServerAddress: 'lcs.example.com', RTCTransport: 4, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019 } });

function timed(command, args) {
  const gnu = existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const run = gnu ? spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 }) : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, rssMb: gnu ? Number(run.stderr.trim().split('\n').at(-1)) / 1024 : NaN, stdout: run.stdout };
}

const rows = [];
for (const format of ['binary', 'xml']) {
  const dir = tree(users, format);
  execFileSync('sync');
  const mine = timed(process.execPath, [join(root, 'bin/mdmgen.js'), 'audit', fleet, dir, '--format', 'json']);
  const peer = timed('python3', ['-c', PEER, dir, expected]);
  const found = JSON.parse(mine.stdout).summary;
  rows.push(`| ${format} | ${users * 2} | ${mine.seconds.toFixed(2)} s | ${mine.rssMb.toFixed(0)} MB | ${peer.seconds.toFixed(2)} s | ${(peer.seconds / mine.seconds).toFixed(2)}x | ${found.errors} / ${peer.stdout.trim().split(' ')[1]} |`);
  rmSync(dir, { recursive: true, force: true });
}
const smallDir = tree(Math.max(1, Math.floor(users / 10)), 'binary');
const small = timed(process.execPath, [join(root, 'bin/mdmgen.js'), 'audit', fleet, smallDir, '--format', 'json']);
rmSync(smallDir, { recursive: true, force: true });

const xml = writeXmlPlist(daemon);
for (let i = 0; i < 2000; i++) readPlist(xml);
const start = process.hrtime.bigint();
const n = 20000;
for (let i = 0; i < n; i++) readPlist(xml);
const perXml = Number(process.hrtime.bigint() - start) / 1e3 / n;
writeFileSync(join(work, 'one.plist'), xml);
const pyXml = Number(execFileSync('python3', ['-c', `import plistlib,time\nd=open('${join(work, 'one.plist')}','rb').read()\nfor i in range(2000): plistlib.loads(d)\nt=time.perf_counter()\nfor i in range(20000): plistlib.loads(d)\nprint((time.perf_counter()-t)/20000*1e6)`]).toString());

console.log(`audit of ${users} pulled Macs (two plists each), one process, on this machine\n`);
console.log('| plists | files | mdmgen audit | peak RSS | Python plistlib peer | peer / mdmgen | errors found (mdmgen / peer) |\n|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(`\npeak RSS: ${small.rssMb.toFixed(0)} MB at ${Math.floor(users / 10) * 2} binary plists, ${rows[0].split('|')[4].trim()} at ${users * 2}`);
console.log(`one XML plist of ${xml.length} bytes: mdmgen readPlist ${perXml.toFixed(1)} µs, Python plistlib.loads ${pyXml.toFixed(1)} µs`);
rmSync(work, { recursive: true, force: true });
