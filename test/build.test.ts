import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { appleKeys, checkAgainstApple } from './helpers/apple-schema.js';
import {
  EXAMPLE, exampleCopy, HEADER, listTree, loadWithPlistlib, mdmgen, readWithPlistlib, snapshotTree, tempDir, untag, writeFleet, type Tagged,
} from './helpers/helpers.js';

function buildExample(env: NodeJS.ProcessEnv = {}, fleet = EXAMPLE): string {
  const out = join(tempDir(), 'build');
  const run = mdmgen(['build', fleet, '-o', out], { env });
  assert.equal(run.code, 0, run.stderr);
  return out;
}

const out = buildExample();
const everything = listTree(out);
// The install point holds copies of the group profiles; the profiles themselves are under profiles/.
const files = everything.filter((f) => !f.startsWith('install-point') && !f.startsWith('network/') && !f.startsWith('dns/'));
const loaded = readWithPlistlib(files.filter((f) => f.endsWith('.plist') || f.endsWith('.mobileconfig')).map((f) => join(out, f)));
const plist = (path: string) => {
  const value = loaded[join(out, path)]!;
  assert.ok(!('error' in value), `${path}: ${JSON.stringify(value)}`);
  return value;
};
const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
  artifacts: { path: string; kind: string; sha256: string; group?: string; user?: string; domain?: string; identifier?: string; uuid?: string; signed?: boolean; containsSecret?: boolean }[];
};

test('the example builds two plists and one profile per group, one profile per user, network files and an install point', () => {
  assert.ok(['network/ports.json', 'network/ports.md', 'network/pf.anchor', 'dns/example.com.zone', 'install-point.zip', 'install-point/SHA256SUMS'].every((f) => everything.includes(f)));
  assert.deepEqual(files.filter((f) => f !== 'install-point-admin.txt'), [
    'manifest.json',
    'plists/base/com.microsoft.Messenger.plist',
    'plists/base/com.microsoft.MessengerDaemon.plist',
    'plists/groups/Engineering/com.microsoft.Messenger.plist',
    'plists/groups/Engineering/com.microsoft.MessengerDaemon.plist',
    'plists/groups/Legal/com.microsoft.Messenger.plist',
    'plists/groups/Legal/com.microsoft.MessengerDaemon.plist',
    'profiles/base.mobileconfig',
    'profiles/groups/Engineering.mobileconfig',
    'profiles/groups/Legal.mobileconfig',
    'profiles/users/asmith.mobileconfig',
    'profiles/users/jdoe.mobileconfig',
    'profiles/users/jgarcia.mobileconfig',
    'profiles/users/kolsen.mobileconfig',
    'profiles/users/mchen.mobileconfig',
  ]);
});

test('plists load in plistlib with the catalogue\'s exact types', () => {
  const daemon = plist('plists/base/com.microsoft.MessengerDaemon.plist') as Extract<Tagged, { type: 'dict' }>;
  assert.deepEqual(daemon.value.PortRangeEnabled, { type: 'integer', value: '1' });
  assert.deepEqual(daemon.value.RTCTransport, { type: 'integer', value: '4' }, 'tls is written as 4');
  assert.deepEqual(daemon.value.RTCConfigurationMode, { type: 'integer', value: '1' }, 'manual is written as 1');
  assert.deepEqual(daemon.value.SaveSIPPassword, { type: 'bool', value: false });
  assert.deepEqual(daemon.value.RTCServerAddress, { type: 'string', value: 'lcs01.corp.example.com' });
  const ui = untag(plist('plists/base/com.microsoft.Messenger.plist'));
  assert.deepEqual(ui, { DisallowSave: true, HideTimeStamp: false, DoNotShowVirusAlert: true });
  assert.deepEqual(untag(plist('plists/groups/Engineering/com.microsoft.Messenger.plist')), { DisallowSave: false, HideTimeStamp: false, DoNotShowVirusAlert: true }, 'group overrides the base');
});

test('every profile agrees with Apple\'s schema: keys, types, required keys, ranges', () => {
  const top = appleKeys('TopLevel');
  const common = appleKeys('CommonPayloadKeys');
  const byType: Record<string, ReturnType<typeof appleKeys>> = Object.fromEntries(
    ['com.apple.ManagedClient.preferences', 'com.apple.jabber.account', 'com.apple.AIM.account'].map((t) => [t, appleKeys(t)]),
  );
  // Documented beyond Apple's published schema (shared/guides/apple-formats.md, c.1): mcx_data_timestamp
  // (mcxToProfile, ProfileManifests) turns Set-Once into "once"; JabberAuthKerberos (ProfileManifests,
  // iChat Server) is Kerberos sign-in.
  const documented = { keys: { mcx_data_timestamp: 'date' as const }, values: { JabberAuthentication: ['JabberAuthKerberos'] } };
  const seen = new Set<string>();
  for (const path of files.filter((f) => f.endsWith('.mobileconfig'))) {
    const profile = plist(path) as Extract<Tagged, { type: 'dict' }>;
    assert.deepEqual(checkAgainstApple(profile, top, path), []);
    assert.equal(untag(profile.value.PayloadType!), 'Configuration');
    const payloads = (profile.value.PayloadContent as Extract<Tagged, { type: 'array' }>).value;
    assert.ok(payloads.length > 0);
    for (const [i, payload] of payloads.entries()) {
      const type = String(untag((payload as Extract<Tagged, { type: 'dict' }>).value.PayloadType!));
      assert.ok(byType[type], `${path}[${i}]: unexpected PayloadType ${type}`);
      assert.deepEqual(checkAgainstApple(payload, [...common, ...byType[type]!], `${path}[${i}]`, documented), []);
      seen.add(type);
    }
  }
  assert.deepEqual([...seen].sort(), ['com.apple.ManagedClient.preferences', 'com.apple.jabber.account']);
});

test('Forced and Set-Once per key as configured; once carries a timestamp, often does not', () => {
  const profile = untag(plist('profiles/base.mobileconfig')) as { PayloadContent: { PayloadContent: Record<string, { Forced?: unknown[]; 'Set-Once'?: Record<string, unknown>[] }> }[] };
  const ui = profile.PayloadContent.find((p) => 'com.microsoft.Messenger' in p.PayloadContent)!.PayloadContent['com.microsoft.Messenger']!;
  assert.deepEqual(ui.Forced, [{ mcx_preference_settings: { DisallowSave: true } }]);
  const [once, often] = ui['Set-Once']!;
  assert.deepEqual(once!.mcx_preference_settings, { HideTimeStamp: false });
  assert.match(String(once!.mcx_data_timestamp), /^20[01]\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(often, { mcx_preference_settings: { DoNotShowVirusAlert: true } });
});

test('profiles tell an admin in an MDM console what they are', () => {
  const legal = untag(plist('profiles/groups/Legal.mobileconfig')) as Record<string, string>;
  assert.equal(legal.PayloadOrganization, 'Example Corp');
  assert.equal(legal.PayloadIdentifier, 'com.example.im.preferences.group.Legal');
  assert.match(legal.PayloadDisplayName!, /Example Corp.*Legal/);
  assert.match(legal.PayloadDescription!, /Legal group.*Legal department/);
  assert.match(legal.PayloadDescription!, /forces .*DisallowSave/);
});

test('a group named in Cyrillic or Japanese builds, its profile named by a hash and described by its name; a description with nothing to summarise has single spaces', () => {
  const built = buildExample({}, writeFleet(`${HEADER}groups:\n  Отдел продаж: {}\n  営業部: {}\n`));
  const profiles = listTree(built).filter((f) => f.startsWith('profiles/groups/'));
  assert.equal(profiles.length, 2);
  const described = profiles.map((f) => untag(loadWithPlistlib(join(built, f)) as Tagged) as Record<string, string>);
  assert.deepEqual(described.map((p) => p.PayloadDisplayName).sort(), ['Example Corp instant messaging (group Отдел продаж)', 'Example Corp instant messaging (group 営業部)'].sort());
  for (const p of described) assert.match(p.PayloadDescription!, /^Messenger for Mac and iChat settings for the \S+( \S+)? group\. Built by mdmgen from fleet\.yaml\.$/);
});

test('manifest.json lists every file with its sha256, kind, identifier and UUID', () => {
  assert.deepEqual(manifest.artifacts.map((a) => a.path), everything.filter((f) => f !== 'manifest.json'));
  for (const a of manifest.artifacts) {
    assert.equal(a.sha256, createHash('sha256').update(readFileSync(join(out, a.path))).digest('hex'), a.path);
    if (!a.path.startsWith('profiles/') && !a.path.startsWith('plists/')) {
      assert.ok(['network', 'dns', 'install-point', 'script', 'document', 'archive'].includes(a.kind), `${a.path}: ${a.kind}`);
      continue;
    }
    if (a.kind === 'profile') {
      const profile = untag(plist(a.path)) as Record<string, unknown>;
      assert.equal(a.user, /^profiles\/users\/(.+)\.mobileconfig$/.exec(a.path)?.[1], a.path);
      assert.equal(a.identifier, profile.PayloadIdentifier);
      assert.equal(a.uuid, profile.PayloadUUID);
      assert.equal(a.signed, false);
    } else {
      assert.equal(a.kind, 'plist');
      assert.match(a.domain!, /^com\.microsoft\.Messenger(Daemon)?$/);
    }
    const department = a.user && readFileSync(join(EXAMPLE, '..', 'users.csv'), 'utf8').split('\n').find((l) => l.startsWith(`${a.user},`))!.split(',')[3];
    assert.equal(a.group, (/\/groups\/([^/.]+)/.exec(a.path)?.[1] ?? department) || undefined, a.path);
  }
});

test('no PayloadIdentifier or PayloadUUID is used twice across the whole output', () => {
  const seen: string[] = [];
  for (const path of files.filter((f) => f.endsWith('.mobileconfig'))) {
    const profile = untag(plist(path)) as { PayloadIdentifier: string; PayloadUUID: string; PayloadContent: { PayloadIdentifier: string; PayloadUUID: string }[] };
    seen.push(profile.PayloadIdentifier, profile.PayloadUUID, ...profile.PayloadContent.flatMap((p) => [p.PayloadIdentifier, p.PayloadUUID]));
  }
  assert.equal(new Set(seen).size, seen.length);
  for (const uuid of seen.filter((s) => /^[0-9A-F-]{36}$/.test(s))) assert.match(uuid, /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/, 'UUIDv5');
});

test('byte-identical output in any time zone and locale', () => {
  const other = buildExample({ TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' });
  const third = buildExample({ TZ: 'America/St_Johns', LANG: 'C' });
  assert.deepEqual(snapshotTree(other), snapshotTree(out));
  assert.deepEqual(snapshotTree(third), snapshotTree(out));
});

test('a fleet.yaml and users.csv saved as UTF-16 with a BOM (Notepad\'s "Unicode", CRLF) build the same bytes as UTF-8', () => {
  const utf16 = (text: string) => Buffer.from(`\ufeff${text.replace(/\r?\n/g, '\r\n')}`, 'utf16le');
  const fleet = exampleCopy();
  const dir = join(fleet, '..');
  writeFileSync(fleet, utf16(readFileSync(fleet, 'utf8')));
  writeFileSync(join(dir, 'users.csv'), utf16(readFileSync(join(dir, 'users.csv'), 'utf8')));
  const built = buildExample({}, fleet);
  // Only manifest.json differs: it records fleet.yaml's own SHA-256.
  const withoutManifest = (dir: string) => Object.fromEntries(Object.entries(snapshotTree(dir)).filter(([path]) => path !== 'manifest.json'));
  assert.deepEqual(withoutManifest(built), withoutManifest(out));
  const artifacts = (dir: string) => (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: unknown }).artifacts;
  assert.deepEqual(artifacts(built), artifacts(out));
});

test('groups written in another order in fleet.yaml build the same bytes', () => {
  const fleet = exampleCopy((text) => {
    const [head, groups] = text.split('\ngroups:');
    const [engineering, legal] = groups!.split(/\n(?=  Legal:)/);
    return `${head}\ngroups:\n${legal}${engineering!.replace(/^\n/, '')}\n`;
  });
  assert.match(readFileSync(fleet, 'utf8'), /Legal:[\s\S]*Engineering:/);
  const built = buildExample({}, fleet);
  const withoutManifest = (dir: string) => Object.fromEntries(Object.entries(snapshotTree(dir)).filter(([path]) => path !== 'manifest.json'));
  assert.deepEqual(withoutManifest(built), withoutManifest(out));
});

test('a UUID changes when its content changes, and only then', () => {
  const fleet = exampleCopy();
  const original = readFileSync(EXAMPLE, 'utf8');
  const profiles = (o: string) => Object.fromEntries(files.filter((f) => f.endsWith('.mobileconfig')).map((f) => [f, untag(loadWithPlistlib(join(o, f))) as { PayloadUUID: string; PayloadContent: { PayloadUUID: string; PayloadContent: Record<string, { 'Set-Once'?: { mcx_data_timestamp?: string }[] }> }[] }]));
  const before = profiles(out);

  writeFileSync(fleet, `# a comment changes nothing a Mac sees\n${original}`);
  const commented = buildExample({}, fleet);
  for (const f of Object.keys(before)) assert.equal(readFileSync(join(commented, f)).toString(), readFileSync(join(out, f)).toString(), f);

  writeFileSync(fleet, original.replace('        DisallowSave: false', '        DisallowSave: true'));
  const changed = profiles(buildExample({}, fleet));
  assert.notEqual(changed['profiles/groups/Engineering.mobileconfig']!.PayloadUUID, before['profiles/groups/Engineering.mobileconfig']!.PayloadUUID);
  assert.notEqual(changed['profiles/users/jdoe.mobileconfig']!.PayloadUUID, before['profiles/users/jdoe.mobileconfig']!.PayloadUUID, 'jdoe is in Engineering');
  assert.equal(changed['profiles/users/jgarcia.mobileconfig']!.PayloadUUID, before['profiles/users/jgarcia.mobileconfig']!.PayloadUUID, 'jgarcia is in Legal');
  assert.equal(changed['profiles/base.mobileconfig']!.PayloadUUID, before['profiles/base.mobileconfig']!.PayloadUUID);
  assert.equal(changed['profiles/groups/Legal.mobileconfig']!.PayloadUUID, before['profiles/groups/Legal.mobileconfig']!.PayloadUUID);
  const daemonUuid = (p: (typeof before)[string]) => p.PayloadContent.find((c) => 'com.microsoft.MessengerDaemon' in c.PayloadContent)!.PayloadUUID;
  assert.equal(daemonUuid(changed['profiles/groups/Engineering.mobileconfig']!), daemonUuid(before['profiles/groups/Engineering.mobileconfig']!), 'the unchanged payload keeps its UUID');
});

test('mcx_data_timestamp changes when a once value changes, not when a forced one does', () => {
  const timestamp = (o: string) => {
    const profile = untag(loadWithPlistlib(join(o, 'profiles/base.mobileconfig'))) as { PayloadContent: { PayloadContent: Record<string, { 'Set-Once'?: { mcx_data_timestamp?: string }[] }> }[] };
    return profile.PayloadContent.find((c) => 'com.microsoft.Messenger' in c.PayloadContent)!.PayloadContent['com.microsoft.Messenger']!['Set-Once']![0]!.mcx_data_timestamp;
  };
  const forced = exampleCopy((t) => t.replace('DisallowSave: true ', 'DisallowSave: false '));
  const once = exampleCopy((t) => t.replace('HideTimeStamp: { value: false', 'HideTimeStamp: { value: true'));
  assert.equal(timestamp(buildExample({}, forced)), timestamp(out));
  assert.notEqual(timestamp(buildExample({}, once)), timestamp(out));
});

test('--plist-format binary writes bplist00 files plistlib reads to the same values', () => {
  const fleet = writeFleet(`${HEADER}preferences:
  com.microsoft.MessengerDaemon:
    RTCConfigurationMode: automatic
    AutoIdleDelay: 0
  com.microsoft.Messenger:
    InstantMessageTextStyles: AAECAwQ=
    NextNewVersionNotifyTime: 5000000000
  com.apple.iChat:
    Ratio: 1.0
    Huge: 9223372036854775807
    Name: "Café Zürich 東京 & <friends>"
`);
  const dir = join(tempDir(), 'b');
  const run = mdmgen(['build', fleet, '-o', dir, '--plist-format', 'binary']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /com\.apple\.iChat is not in the catalogue/);
  for (const f of listTree(dir).filter((p) => p.endsWith('.plist'))) assert.equal(readFileSync(join(dir, f)).subarray(0, 8).toString(), 'bplist00', f);
  const daemon = loadWithPlistlib(join(dir, 'plists/base/com.microsoft.MessengerDaemon.plist'));
  assert.deepEqual(daemon, { type: 'dict', value: { RTCConfigurationMode: { type: 'integer', value: '-1' }, AutoIdleDelay: { type: 'integer', value: '0' } } });
  const ui = loadWithPlistlib(join(dir, 'plists/base/com.microsoft.Messenger.plist')) as Extract<Tagged, { type: 'dict' }>;
  assert.deepEqual(ui.value.NextNewVersionNotifyTime, { type: 'integer', value: '5000000000' }, 'above 2^32 stays an integer');
  assert.deepEqual(ui.value.InstantMessageTextStyles, { type: 'data', value: 'AAECAwQ=' });
  const ichat = loadWithPlistlib(join(dir, 'plists/base/com.apple.iChat.plist'));
  assert.deepEqual(ichat, { type: 'dict', value: {
    Huge: { type: 'integer', value: '9223372036854775807' },
    Name: { type: 'string', value: 'Café Zürich 東京 & <friends>' },
    Ratio: { type: 'real', value: 1 },
  } });
});

test('PayloadUUIDs are RFC 4122 version 5 UUIDs of mdmgen\'s namespace, as Python\'s uuid.uuid5 makes them', async () => {
  const { uuidV5 } = await import('../src/compile/identity.js');
  const names = ['', 'com.example.im\n<dict/>', 'zoë 😀 ß', 'x'.repeat(5000), ...Array.from({ length: 50 }, (_, i) => `name ${i} ${'é'.repeat(i)}\u0000\uE000`)];
  const script = 'import json, sys, uuid\nns = uuid.UUID("6d646d67-656e-5000-8000-706179726f6c")\nprint(json.dumps([str(uuid.uuid5(ns, n)).upper() for n in json.load(sys.stdin)]))';
  const python = execFileSync('python3', ['-c', script], { input: JSON.stringify(names) }).toString();
  assert.deepEqual(names.map((n) => uuidV5(n)), JSON.parse(python));
});
