import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { exampleCopy, HEADER, mdmgen, tempDir, writeFleet } from './helpers/helpers.js';
import { makePki } from './helpers/pki.js';

/** The example built as it is and after `edit`, each into a folder of its own. */
function builds(edit: (text: string) => string, editUsers: (csv: string) => string = (csv) => csv): { old: string; now: string } {
  const build = (change: (text: string) => string, users: (csv: string) => string) => {
    const fleet = exampleCopy(change);
    const csv = join(dirname(fleet), 'users.csv');
    writeFileSync(csv, users(readFileSync(csv, 'utf8')));
    const out = join(tempDir(), 'build');
    const run = mdmgen(['build', fleet, '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    return out;
  };
  return { old: build((t) => t, (c) => c), now: build(edit, editUsers) };
}

test('diff of two builds: the settings each profile and plist changed, grouped when alike, what the MDM does, and the files added or removed', () => {
  const { old, now } = builds(
    (t) => t.replace(/^ {4}DisallowSave: true/m, '    DisallowSave: false').replace('AutoIdleDelay: { value: 10', 'AutoIdleDelay: { value: 15'),
    (csv) => `${csv.replace(/^kolsen,.*\r?\n/m, '')}zoe,zoe@example.com,zoe@CORP.EXAMPLE.COM,Legal,"Zoe"\r\n`,
  );
  const run = mdmgen(['diff', old, now]);
  assert.equal(run.code, 1, run.stderr);
  const text = run.stdout;
  assert.match(text, /^changed: plists\/base\/com\.microsoft\.Messenger\.plist, plists\/groups\/Legal\/com\.microsoft\.Messenger\.plist\n {2}DisallowSave {2}true -> false\n/m);
  assert.match(text, /^changed: profiles\/base\.mobileconfig\n {2}com\.microsoft\.Messenger DisallowSave {9}forced true -> forced false\n {2}com\.microsoft\.MessengerDaemon AutoIdleDelay {2}once 10 -> once 15\n {2}on the Macs: the same PayloadIdentifier, so the installed profile is updated in place\n/m);
  assert.match(text, /^changed: profiles\/groups\/Legal\.mobileconfig, profiles\/users\/jgarcia\.mobileconfig, profiles\/users\/mchen\.mobileconfig\n {2}com\.microsoft\.Messenger DisallowSave {2}forced true -> forced false\n/m);
  assert.match(text, /^added: profiles\/users\/zoe\.mobileconfig\n {2}on the Macs: a new profile to install\n/m);
  assert.match(text, /^removed: profiles\/users\/kolsen\.mobileconfig\n {2}on the Macs: no longer built: remove it from the MDM, or the Macs keep it\n/m);
  assert.match(text, /^install point: 8 changed \(install-point\/Preferences\/base\/com\.microsoft\.Messenger\.plist, .* and 5 more\)\n/m);

  // The JSON lists every file the manifests differ in, and agrees with them.
  const json = JSON.parse(mdmgen(['diff', old, now, '--format', 'json']).stdout) as { summary: Record<string, number>; artifacts: { path: string; change: string; settings: unknown[] }[] };
  const manifest = (dir: string) => new Map((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: { path: string; sha256: string }[] }).artifacts.map((a) => [a.path, a.sha256]));
  const [before, after] = [manifest(old), manifest(now)];
  const differing = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
  assert.deepEqual(json.artifacts.map((a) => a.path), differing);
  assert.deepEqual(json.summary, { changed: differing.filter((p) => before.has(p) && after.has(p)).length, added: 1, removed: 1 });
  assert.match(text, new RegExp(`\\n${differing.length} files differ: ${json.summary.changed} changed, 1 added, 1 removed\\n$`));

  const same = mdmgen(['diff', old, old]);
  assert.deepEqual([same.code, same.stdout], [0, 'The two builds are the same.\n']);

  // The same policy with binary plists: every plist differs, no setting does.
  const binary = join(tempDir(), 'binary');
  assert.equal(mdmgen(['build', exampleCopy(), '-o', binary, '--plist-format', 'binary']).code, 0);
  const encoding = mdmgen(['diff', old, binary, '--format', 'json']);
  const plists = (JSON.parse(encoding.stdout) as { artifacts: { kind: string; settings: unknown[] | null }[] }).artifacts.filter((a) => a.kind === 'plist');
  assert.ok(plists.length >= 6 && plists.every((a) => Array.isArray(a.settings) && a.settings.length === 0), encoding.stdout);
  assert.match(mdmgen(['diff', old, binary]).stdout, /^changed: plists\/base\/com\.microsoft\.Messenger\.plist, .*\n {2}no setting changed: only its encoding \(XML or binary\)\n/m);
});

test('diff: a new organization identifier is said to install every profile anew; signed builds are compared by their content', () => {
  const { old, now } = builds((t) => t.replace('identifier: com.example.im', 'identifier: com.example.messaging'));
  const text = mdmgen(['diff', old, now]).stdout;
  assert.match(text, /^changed: profiles\/base\.mobileconfig\n {2}profile PayloadIdentifier {2}"com\.example\.im\.preferences" -> "com\.example\.messaging\.preferences"\n {2}on the Macs: its PayloadIdentifier changes, so it installs as a new profile and the old one stays until the MDM removes it\n/m);

  const pki = makePki();
  const dir = tempDir();
  const signed = (value: string) => {
    const fleet = writeFleet(`${HEADER}preferences:\n  com.microsoft.Messenger:\n    DisallowSave: ${value}\nsigning:\n  certificate: ${pki.path('leaf.pem')}\n  key: ${pki.path('leaf.key')}\n  chain: [${pki.path('int.pem')}]\n`);
    const out = join(dir, value);
    assert.equal(mdmgen(['build', fleet, '-o', out]).code, 0);
    return out;
  };
  const signedDiff = mdmgen(['diff', signed('true'), signed('false')]);
  assert.equal(signedDiff.code, 1);
  assert.match(signedDiff.stdout, /^changed: profiles\/base\.mobileconfig\n {2}com\.microsoft\.Messenger DisallowSave {2}forced true -> forced false\n/m);
});

test('diff: a folder that is not a build, or a manifest that points outside its folder, is a usage error', () => {
  const { old } = builds((t) => t);
  const empty = tempDir();
  const missing = mdmgen(['diff', old, empty]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /is not a build of mdmgen: cannot read its manifest\.json \(no such file\)/);
  const hostile = tempDir();
  writeFileSync(join(hostile, 'manifest.json'), JSON.stringify({ artifacts: [{ path: '../../etc/passwd', kind: 'plist', sha256: 'x' }] }));
  const outside = mdmgen(['diff', old, hostile]);
  assert.deepEqual([outside.code, outside.stdout], [2, '']);
  assert.match(outside.stderr, /manifest\.json does not list a build's artifacts/);
});
