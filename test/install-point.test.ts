import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exampleCopy, HEADER, listTree, mdmgen, ROOT, SHARED, snapshotTree, tempDir, writeFleet } from './helpers/helpers.js';
import { makePki } from './helpers/pki.js';

function buildExample(edit?: (t: string) => string, env: NodeJS.ProcessEnv = {}) {
  const fleet = exampleCopy(edit);
  const out = join(tempDir(), 'out');
  const run = mdmgen(['build', fleet, '-o', out], { env });
  assert.equal(run.code, 0, run.stderr);
  return { out, fleet, ip: join(out, 'install-point') };
}

const example = buildExample();
const ip = example.ip;

test('the install point holds the program as it is, group and trust profiles, preferences, scripts, Read Me and SHA256SUMS', () => {
  const files = listTree(ip);
  for (const f of ['Microsoft Messenger 5.1/Messenger Installer', 'Microsoft Messenger 5.1/Read Me First.txt', 'Profiles/base.mobileconfig', 'Profiles/groups/Engineering.mobileconfig',
    'Preferences/base/com.microsoft.Messenger.plist', 'Preferences/groups/Legal/com.microsoft.MessengerDaemon.plist', 'install-preferences.sh', 'uninstall.sh', 'Read Me.txt', 'SHA256SUMS']) {
    assert.ok(files.includes(f), f);
  }
  assert.ok(!files.some((f) => f.includes('users/')), 'no per-user profile on a share everyone reads');
  assert.ok(readFileSync(join(ip, 'Microsoft Messenger 5.1/Messenger Installer')).equals(readFileSync(join(ROOT, 'examples/vendor/Microsoft Messenger 5.1/Messenger Installer'))));
  assert.equal(statSync(join(ip, 'Microsoft Messenger 5.1/Messenger Installer')).mode & 0o111, 0o111, 'executable bits kept');
  assert.equal(statSync(join(ip, 'uninstall.sh')).mode & 0o777, 0o755);
  assert.equal(statSync(join(ip, 'Read Me.txt')).mode & 0o777, 0o644);
  const sums = readFileSync(join(ip, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.slice(66));
  assert.deepEqual(sums, [...sums].sort(), 'SHA256SUMS in path order');
  const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: ip, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.equal(check.stdout.trim().split('\n').length, files.length - 1, 'SHA256SUMS covers every other file');
});

test('Read Me tells users what the guide says they must be told; the admin note asks for a read-only share', () => {
  const readMe = readFileSync(join(ip, 'Read Me.txt'), 'utf8');
  assert.match(readMe, /Copy "Microsoft Messenger 5\.1" from this folder/);
  assert.match(readMe, /smb:\/\/files\.example\.com\/Software\/Messenger/);
  assert.match(readMe, /company e-mail address and\s+your password/);
  assert.match(readMe, /fully qualified name, such as\s+someone@CORP\.EXAMPLE\.COM \(your domain is CORP\.EXAMPLE\.COM\)/);
  assert.match(readMe, /Manually configure settings, type\s+lcs01\.corp\.example\.com and select TLS/);
  const tcp = readFileSync(join(buildExample((t) => t.replace('RTCTransport: tls', 'RTCTransport: tcp').replace('    port: 5223\n', '')).ip, 'Read Me.txt'), 'utf8');
  assert.match(tcp, /Manually configure settings, type\s+lcs01\.corp\.example\.com and select TCP/);
  assert.match(tcp, /ichat\.example\.com, port 5222, with SSL/, 'XMPP\'s port when fleet.yaml names none');
  assert.match(readMe, /ichat\.example\.com, port 5223, with SSL/);
  const admin = readFileSync(join(example.out, 'install-point-admin.txt'), 'utf8');
  assert.match(admin, /users read only; only administrators may\s+write/);

  const pki = makePki();
  const withTrust = buildExample((t) => t.replace('installPoint:', `trust:\n  - file: ${pki.path('root.pem')}\n\ninstallPoint:`).replace('RTCConfigurationMode: manual', 'RTCConfigurationMode: automatic'));
  const trustReadMe = readFileSync(join(withTrust.ip, 'Read Me.txt'), 'utf8');
  assert.match(trustReadMe, /choose X509 Anchors on the Keychain pop-up menu, click OK/);
  assert.match(trustReadMe, /- Test-Root-CA\.cer \(Test Root CA\)/);
  assert.match(trustReadMe, /finds the Live Communications Server by itself/);
  assert.ok(existsSync(join(withTrust.ip, 'Certificates/Test-Root-CA.cer')) && existsSync(join(withTrust.ip, 'Profiles/trust.mobileconfig')));
});

test('the scripts pass sh -n and shellcheck, with an application path that holds a quote too', () => {
  const quoted = buildExample((t) => t.replace('  archive: zip\n', '  archive: zip\n  application: "/Applications/Bob\'s Messenger"\n')).ip;
  for (const folder of [ip, quoted]) {
    for (const script of ['install-preferences.sh', 'uninstall.sh']) {
      execFileSync('sh', ['-n', join(folder, script)]);
      const lint = spawnSync('shellcheck', ['-s', 'sh', join(folder, script)], { encoding: 'utf8' });
      assert.equal(lint.status, 0, `${script}: ${lint.stdout}${lint.error ?? ''}`);
    }
  }
  assert.match(readFileSync(join(quoted, 'uninstall.sh'), 'utf8'), /^default_application='\/Applications\/Bob'\\''s Messenger'$/m);
});

/**
 * A `chflags` (macOS's, which Linux lacks) that records how it was called, first on PATH: the scripts' locking
 * and unlocking is seen, not only their owner and mode. Returns the environment and the log.
 */
function recordedChflags(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = tempDir('mdmgen-bin-');
  const log = join(bin, 'calls.log');
  writeFileSync(join(bin, 'chflags'), `#!/bin/sh\necho "$*" >> '${log}'\n`, { mode: 0o755 });
  return { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

test('install-preferences.sh installs a group\'s plists into a HOME, locks com.microsoft.Messenger.plist, and is safe to run twice', { skip: process.getuid?.() !== 0 && 'locking needs root, as on a Mac' }, () => {
  const home = tempDir('mdmgen-home-');
  chmodSync(home, 0o755);
  const chflags = recordedChflags();
  const run = () => spawnSync('sh', [join(ip, 'install-preferences.sh'), 'Engineering', home], { encoding: 'utf8', env: chflags.env });
  const locked = join(home, 'Library/Preferences/Microsoft/com.microsoft.Messenger.plist');
  for (let i = 0; i < 2; i++) {
    const result = run();
    assert.equal(result.status, 0, result.stderr);
    assert.ok(readFileSync(locked).equals(readFileSync(join(ip, 'Preferences/groups/Engineering/com.microsoft.Messenger.plist'))));
    assert.equal(statSync(locked).mode & 0o777, 0o444, 'read-only');
    assert.equal(statSync(locked).uid, 0, 'owned by root');
    const daemon = join(home, 'Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist');
    assert.ok(readFileSync(daemon).equals(readFileSync(join(ip, 'Preferences/groups/Engineering/com.microsoft.MessengerDaemon.plist'))));
  }
  // Locked (uchg, so that the user cannot delete it either), and unlocked before the second run replaces it.
  assert.deepEqual(chflags.calls(), [`uchg ${locked}`, `nouchg ${locked}`, `uchg ${locked}`]);
  const unknown = spawnSync('sh', [join(ip, 'install-preferences.sh'), 'Sales', home], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no group "Sales"; the groups are: base Engineering Legal/);
});

test('uninstall.sh removes exactly what the guide\'s "Removing Messenger for Mac" lists, and nothing else', () => {
  const home = tempDir('mdmgen-home-');
  const app = join(tempDir(), 'Microsoft Messenger');
  mkdirSync(join(app, 'Contents'), { recursive: true });
  const prefs = join(home, 'Library/Preferences/Microsoft');
  const data = join(home, 'Documents/Microsoft User Data');
  const listed = [
    join(prefs, 'com.microsoft.AlertsDaemon.plist'), join(prefs, 'com.microsoft.Messenger.plist'), join(prefs, 'com.microsoft.MessengerDaemon.plist'),
    join(prefs, 'Microsoft Messenger User Cache/cache.db'), join(data, 'Messenger Corporate Data/contacts'), join(data, 'Microsoft Messenger Data/x'),
    join(data, 'Messenger Corporate History/2006-01-01.txt'), join(data, 'MSN Messenger History/h.txt'),
  ];
  const kept = [join(prefs, 'com.microsoft.Word.plist'), join(data, 'Office 2004 Identities/Main Identity/Database'), join(data, 'Messenger Corporate Data Backup/keep'), join(home, 'Library/Preferences/com.microsoft.Messenger.plist')];
  for (const file of [...listed, ...kept]) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'x');
  }
  const chflags = recordedChflags();
  const result = spawnSync('sh', [join(ip, 'uninstall.sh'), home], { encoding: 'utf8', env: { ...chflags.env, MESSENGER_APP: app } });
  assert.equal(result.status, 0, result.stderr);
  for (const file of listed) assert.ok(!existsSync(file), `${file} removed`);
  assert.ok(!existsSync(app), 'the program removed');
  for (const file of kept) assert.ok(existsSync(file), `${file} kept`);
  assert.ok(existsSync(prefs) && existsSync(data), 'the folders themselves stay');
  assert.match(result.stdout, /removed .*Microsoft Messenger User Cache/);
  // What install-preferences.sh locked is unlocked first, or rm could not remove it on a Mac.
  assert.ok(chflags.calls().includes(`-R nouchg ${join(prefs, 'com.microsoft.Messenger.plist')}`), chflags.calls().join('\n'));
});

test('zip archive: sorted entries, fixed dates, modes 0644 and 0755, no symlinks, SHA256SUMS inside, identical bytes on every build', () => {
  const zip = join(example.out, 'install-point.zip');
  const listing = execFileSync('unzip', ['-Z', zip], { encoding: 'utf8' }).trim().split('\n').filter((l) => /^[-dl]/.test(l));
  const names = listing.map((line) => line.split(/\s+/).slice(8).join(' '));
  assert.deepEqual(names, [...names].sort(), 'sorted');
  for (const line of listing) {
    const [mode, , , , , , date] = line.split(/\s+/);
    assert.match(mode!, /^(drwxr-xr-x|-rw-r--r--|-rwxr-xr-x)$/, line);
    assert.equal(date, '01-Jan-01', line);
  }
  assert.ok(listing.some((l) => l.startsWith('-rwxr-xr-x') && l.endsWith('Messenger Installer')));
  assert.ok(listing.some((l) => l.startsWith('-rwxr-xr-x') && l.endsWith('install-point/uninstall.sh')));
  const unpacked = tempDir();
  execFileSync('unzip', ['-q', zip, '-d', unpacked]);
  assert.equal(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(unpacked, 'install-point') }).status, 0);
  assert.deepEqual(snapshotTree(join(unpacked, 'install-point')), snapshotTree(ip), 'the archive holds the install point folder');
  const again = buildExample(undefined, { TZ: 'Pacific/Chatham', LANG: 'de_DE.UTF-8' });
  assert.ok(readFileSync(join(again.out, 'install-point.zip')).equals(readFileSync(zip)), 'identical bytes');
});

test('tar.gz archive: modes, numeric owners without names, fixed dates, identical bytes', () => {
  const a = buildExample((t) => t.replace('archive: zip', 'archive: tar.gz'));
  const b = buildExample((t) => t.replace('archive: zip', 'archive: tar.gz'), { TZ: 'America/Caracas' });
  const archive = join(a.out, 'install-point.tar.gz');
  assert.ok(readFileSync(archive).equals(readFileSync(join(b.out, 'install-point.tar.gz'))));
  const listing = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' }).trim().split('\n');
  for (const line of listing) assert.match(line, /^(drwxr-xr-x|-rw-r--r--|-rwxr-xr-x) 0\/0 +\d+ 2001-01-01 00:00 install-point\//, line);
});

test('the program: an inside symlink is followed, one leading outside is refused, names that differ only in case are refused', () => {
  const inside = exampleCopy();
  const program = join(inside, '..', 'vendor', 'Microsoft Messenger 5.1');
  symlinkSync('Read Me First.txt', join(program, 'Latest Read Me'));
  const out = join(tempDir(), 'out');
  assert.equal(mdmgen(['build', inside, '-o', out]).code, 0);
  assert.ok(statSync(join(out, 'install-point/Microsoft Messenger 5.1/Latest Read Me')).isFile());
  const listing = execFileSync('unzip', ['-Z', join(out, 'install-point.zip')], { encoding: 'utf8' });
  assert.doesNotMatch(listing, /^l/m, 'no symlink entries');

  const outside = exampleCopy();
  symlinkSync('/etc/passwd', join(outside, '..', 'vendor', 'Microsoft Messenger 5.1', 'passwd'));
  const refused = mdmgen(['build', outside, '-o', join(tempDir(), 'out')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /passwd is a symlink that leads outside the program {2}install-point\/program/);

  const cased = exampleCopy();
  writeFileSync(join(cased, '..', 'vendor', 'Microsoft Messenger 5.1', 'read me first.txt'), 'x');
  const clash = mdmgen(['build', cased, '-o', join(tempDir(), 'out')]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /are one name on a Mac/);

  const empty = exampleCopy();
  const emptyProgram = join(empty, '..', 'vendor', 'Microsoft Messenger 5.1');
  rmSync(emptyProgram, { recursive: true });
  mkdirSync(emptyProgram);
  assert.match(mdmgen(['build', empty, '-o', join(tempDir(), 'out')]).stderr, /Microsoft Messenger 5\.1: the program folder is empty {2}install-point\/program/);

  const looped = exampleCopy();
  symlinkSync('.', join(looped, '..', 'vendor', 'Microsoft Messenger 5.1', 'again'));
  assert.match(mdmgen(['build', looped, '-o', join(tempDir(), 'out')]).stderr, /again is a symlink to a folder that contains it {2}install-point\/program/);

  // A name that is not UTF-8 (a copy from an old disk): Node lists it under a name no call finds again.
  const latin1 = exampleCopy();
  writeFileSync(Buffer.concat([Buffer.from(join(latin1, '..', 'vendor', 'Microsoft Messenger 5.1', 'caf')), Buffer.from([0xe9, 0x2e, 0x74, 0x78, 0x74])]), 'x');
  const named = mdmgen(['build', latin1, '-o', join(tempDir(), 'out')]);
  assert.equal(named.code, 2);
  assert.match(named.stderr, /:\d+:\d+ {2}error {2}.*Microsoft Messenger 5\.1\/caf\ufffd\.txt has a name that is not UTF-8; rename it.* {2}install-point\/program/);
  assert.doesNotMatch(named.stderr, /internal error/);
});

/** The seed's own lists (003, "In Mac OS X 10.4 or later"): TCP and UDP port numbers to open. */
function seedPorts(): [string, 'tcp' | 'udp'][] {
  const text = readFileSync(join(SHARED, 'seeds', '003_177c403a982cf2a8.txt'), 'utf8');
  const tcp = /TCP Port Numbers field[^:]*:\s*\n\s*([\d, -]+)/.exec(text)![1]!;
  const udp = /UDP Port Numbers field type:\s*\n\s*([\d, -]+)/.exec(text)![1]!;
  const split = (list: string) => list.split(',').map((p) => p.trim()).filter(Boolean);
  return [...split(tcp).map((p) => [p, 'tcp'] as [string, 'tcp']), ...split(udp).map((p) => [p, 'udp'] as [string, 'udp'])];
}

test('ports.json: every port of the seed\'s iChat table with its protocol, local-only marked, the policy\'s SIP range, LCS and MSN', () => {
  const rules = JSON.parse(readFileSync(join(example.out, 'network/ports.json'), 'utf8')) as { service: string; protocol: string; port: number | string; direction: string; scope: string; action: string; firewall: string }[];
  const has = (port: string, protocol: string) => rules.find((r) => String(r.port) === port && r.protocol === protocol);
  const expected = seedPorts();
  assert.equal(expected.length, 12);
  for (const [port, protocol] of expected) assert.ok(has(port, protocol), `${port}/${protocol}`);
  for (const port of ['5297', '5298', '5353']) assert.ok(rules.filter((r) => String(r.port) === port).every((r) => r.scope === 'local-only'), port);
  assert.equal(has('5269', 'tcp')?.firewall, 'server');
  assert.equal(has('7777', 'tcp')?.firewall, 'server');
  assert.deepEqual(has('50000-50019', 'tcp') && [has('50000-50019', 'tcp')!.direction, has('50000-50019', 'tcp')!.action], ['inbound', 'allow']);
  assert.equal(has('5061', 'tcp')?.action, 'allow');
  assert.equal(has('1863', 'tcp')?.action, 'block');
  assert.ok(rules.every((r) => ['tcp', 'udp'].includes(r.protocol) && ['outbound', 'inbound', 'both'].includes(r.direction) && ['uplink', 'local-only'].includes(r.scope)));

  const tcp = buildExample((t) => `${t.replace('        AutoIdleDelay: 5\n', '        RTCTransport: tcp\n')}network:\n  allowPersonalAccounts: true\n`);
  const tcpRules = JSON.parse(readFileSync(join(tcp.out, 'network/ports.json'), 'utf8')) as typeof rules;
  assert.ok(tcpRules.some((r) => r.port === 5060 && r.protocol === 'tcp'), 'a group on TCP adds LCS 5060/tcp');
  assert.equal(tcpRules.find((r) => r.port === 1863)!.action, 'allow');
});

test('ports.md and the pf anchor: a line per rule, and Apple\'s Configuration A and B', () => {
  const md = readFileSync(join(example.out, 'network/ports.md'), 'utf8');
  assert.match(md, /### Configuration A\n\n\| packets \| source port \| destination port \|\n\|---\|---\|---\|\n\| outgoing \| internal: any \| external: 5060, 5190, 5220, 5222, 5223, 5297, 5298, 5353, 5678, 16384-16403 \|/);
  // The seed's text drops a comma in "5678 16384-16403" (a PDF extraction slip); ports.yaml has it back.
  assert.match(md, /### Configuration B[\s\S]*\| incoming \| external: 5060, 5190, 5220, 5222, 5223, 5297, 5298, 5353, 5678, 16384-16403 \| internal: 5060, 5190, 5297, 5298, 5353, 16384-16403 \|/);
  const pf = readFileSync(join(example.out, 'network/pf.anchor'), 'utf8');
  assert.match(pf, /^block drop out quick proto tcp from any to any port 1863$/m);
  assert.match(pf, /^pass in proto tcp from any to any port 50000:50019 keep state$/m);
  assert.match(pf, /^pass proto udp from any to any port 16384:16403 keep state$/m);
  assert.doesNotMatch(pf, /port 7777/, 'server rules stay out of the Macs\' anchor');
});

test('DNS: named-checkzone accepts the zone; LCS records for automatic configuration, XMPP records per Jabber host, marked placeholders', () => {
  const auto = buildExample((t) => `${t.replace('RTCConfigurationMode: manual', 'RTCConfigurationMode: automatic')}\nnetwork:\n  ttl: 300\n`);
  const zone = join(auto.out, 'dns/example.com.zone');
  const check = spawnSync('named-checkzone', ['example.com', zone], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /OK/);
  const text = readFileSync(zone, 'utf8');
  assert.match(text, /^_sipinternaltls\._tcp +IN SRV 0 0 5061 lcs01\.corp\.example\.com\.$/m);
  assert.match(text, /^_sip\._tls +IN SRV 0 0 5061 lcs01\.corp\.example\.com\.$/m);
  assert.match(text, /^_xmpp-client\._tcp +IN SRV 0 0 5222 ichat\.example\.com\.$/m);
  assert.match(text, /^_xmpp-server\._tcp +IN SRV 0 0 5269 ichat\.example\.com\.$/m);
  assert.match(text, /SOA ns\.placeholder\.invalid\..*; PLACEHOLDER/);
  assert.match(text, /^\$TTL 300$/m);
  assert.match(readFileSync(join(example.out, 'dns/example.com.zone'), 'utf8'), /^\$TTL 3600$/m, 'an hour unless fleet.yaml says otherwise');
  assert.doesNotMatch(readFileSync(join(example.out, 'dns/example.com.zone'), 'utf8'), /_sip/, 'manual configuration needs no LCS records');

  const noServer = writeFleet(`${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n    RTCConfigurationMode: automatic\n`);
  const warned = mdmgen(['build', noServer, '-o', join(tempDir(), 'o')]);
  assert.match(warned.stderr, /no RTCServerAddress names the Live Communications Server .* network\/dns/);
});

test('archive entry names are checked before archiver sees them (it strips only a leading ../ or /)', async () => {
  const { entryNameProblems } = await import('../src/install-point/install-point.js');
  const bad = ['../x', '/abs', 'C:\\x', 'a/../../b', 'a\\..\\b', './../x', 'x\0y', `${'n'.repeat(256)}/f`, `${'é'.repeat(128)}.txt`, 'a//b'];
  for (const name of bad) assert.equal(entryNameProblems([name]).length, 1, JSON.stringify(name));
  assert.deepEqual(entryNameProblems(['Profile.mobileconfig', 'profile.mobileconfig']), ['"profile.mobileconfig" and "Profile.mobileconfig" are one name on a Mac']);
  assert.deepEqual(entryNameProblems(['Caf\u00e9.txt', 'Cafe\u0301.txt']), ['"Cafe\u0301.txt" and "Caf\u00e9.txt" are one name on a Mac'], 'composed and decomposed: one name to HFS+ and APFS');
  assert.deepEqual(entryNameProblems([`${'é'.repeat(125)}.txt`]), [], '254 bytes of UTF-8: a name a Mac holds');
  assert.deepEqual(entryNameProblems(['Read Me.txt', 'Profiles/base.mobileconfig', 'Microsoft Messenger 5.1/Messenger Installer']), []);
});
