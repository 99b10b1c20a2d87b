import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFleet } from '../src/fleet/check.js';
import { HEADER } from './helpers/helpers.js';

const daemon = (body: string, extra = '') => `${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n${body}${extra}`;

interface Case { name: string; yaml: string; expect: [code: string, line: number, column: number][]; message?: RegExp }

const cases: Case[] = [
  { name: 'a valid range of exactly 3 ports', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 50000\n    PortRangeMaxSIPDynamicPort: 50002\n'), expect: [] },
  { name: 'min above max', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 50010\n    PortRangeMaxSIPDynamicPort: 50000\n'), expect: [['rule/port-range-order', 7, 33]] },
  { name: 'fewer than 3 ports (seed)', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 50000\n    PortRangeMaxSIPDynamicPort: 50001\n'), expect: [['rule/port-range-size', 7, 33]], message: /at least 3/ },
  { name: 'range enabled without its bounds', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 50000\n'), expect: [['rule/port-range-incomplete', 5, 23]] },
  { name: 'bounds without PortRangeEnabled', yaml: daemon('    PortRangeMinSIPDynamicPort: 50000\n    PortRangeMaxSIPDynamicPort: 50010\n'), expect: [['rule/port-range-disabled', 5, 33], ['rule/port-range-disabled', 6, 33]] },
  { name: 'a port below 1024', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 80\n    PortRangeMaxSIPDynamicPort: 90\n'), expect: [['pref/type', 6, 33], ['pref/type', 7, 33]] },
  { name: 'a range over the iChat AV ports', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 16380\n    PortRangeMaxSIPDynamicPort: 16390\n'), expect: [['rule/port-conflict', 6, 33]], message: /overlaps ports 16384-16403 \(iChat \(AIM, Bonjour, audio and video\)\)/ },
  { name: 'a range over MSN\'s 1863', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 1860\n    PortRangeMaxSIPDynamicPort: 1870\n'), expect: [['rule/port-conflict', 6, 33]], message: /1863/ },
  { name: 'a range that ends on MSN\'s 1863', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 1861\n    PortRangeMaxSIPDynamicPort: 1863\n'), expect: [['rule/port-conflict', 6, 33]], message: /port 1863/ },
  { name: 'a range that starts on MSN\'s 1863', yaml: daemon('    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 1863\n    PortRangeMaxSIPDynamicPort: 1865\n'), expect: [['rule/port-conflict', 6, 33]], message: /port 1863/ },
  { name: 'manual configuration without a server', yaml: daemon('    RTCConfigurationMode: manual\n'), expect: [['rule/server-address-required', 5, 27]] },
  { name: 'automatic configuration needs no server', yaml: daemon('    RTCConfigurationMode: automatic\n'), expect: [] },
  { name: 'Kerberos without UserLogonName', yaml: daemon('    EnableKerberosLogin: true\n'), expect: [['rule/kerberos-logon-name', 5, 26]] },
  { name: 'Kerberos with a short UserLogonName', yaml: daemon('    EnableKerberosLogin: true\n    UserLogonName: someone\n'), expect: [['rule/kerberos-logon-name', 6, 20]], message: /fully qualified/ },
  { name: 'Kerberos with the guide\'s example logon name', yaml: daemon('    EnableKerberosLogin: true\n    UserLogonName: someone@testserver.headquarters.corp.adatum.com\n'), expect: [] },
  { name: 'TCP although a trust anchor is configured', yaml: daemon('    RTCTransport: tcp\n', 'trust:\n  - file: ca.pem\n'), expect: [['rule/tcp-with-trust-anchor', 5, 19]] },
  { name: 'a template without a directory', yaml: daemon('    UserSIPID: "{{email}}"\n'), expect: [['rule/template-without-directory', 5, 16]] },
  { name: 'Kerberos iChat account with a password', yaml: `${HEADER}accounts:\n  - { type: jabber, host: ichat.example.com, authentication: kerberos, password: { env: PW } }\n`, expect: [['rule/accounts-without-directory', 4, 5], ['rule/kerberos-with-password', 4, 72]] },
  { name: 'an AIM account on another host than AOL\'s', yaml: `${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName } }\naccounts:\n  - { type: aim, host: aim.example.com, user: "{{user}}" }\n`, expect: [['rule/aim-host', 5, 24]], message: /slogin\.oscar\.aol\.com/ },
  { name: 'two Jabber accounts for one server, however its name is written', yaml: `${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName } }\naccounts:\n  - { type: jabber, host: ichat.example.com, user: "{{user}}" }\n  - { type: jabber, host: iChat.Example.com, user: "{{user}}" }\n`, expect: [['rule/duplicate-account', 6, 5]] },
  { name: 'signing with a PKCS#12 file and a certificate', yaml: `${HEADER}signing:\n  pkcs12: id.p12\n  certificate: cert.pem\n  key: key.pem\n`, expect: [['rule/signing-identity', 3, 1]], message: /not both/ },
  { name: 'signing with a certificate and no key', yaml: `${HEADER}signing:\n  certificate: cert.pem\n`, expect: [['rule/signing-identity', 3, 1]], message: /certificate and key, or pkcs12/ },
  { name: 'a key the guide says does not apply', yaml: daemon('    Tuned: 1\n'), expect: [['pref/not-applicable', 5, 5]], message: /Does not currently apply/ },
  { name: 'an unchecked domain', yaml: `${HEADER}preferences:\n  com.apple.iChat:\n    AutoLogin: true\n`, expect: [['pref/unchecked-domain', 4, 3]] },
  { name: 'a misspelt domain is unchecked, with the catalogue\'s nearest', yaml: `${HEADER}preferences:\n  com.microsoft.Mesenger:\n    DisallowSave: true\n`, expect: [['pref/unchecked-domain', 4, 3]], message: /did you mean com\.microsoft\.Messenger\?/ },
  { name: 'a catalogue domain with other capitals', yaml: `${HEADER}preferences:\n  Com.microsoft.Messenger:\n    DisallowSave: true\n`, expect: [['pref/domain-case', 4, 3]], message: /^Com\.microsoft\.Messenger is com\.microsoft\.Messenger with other capitals/ },
  { name: 'a group\'s domain spelt otherwise than the base\'s', yaml: `${HEADER}preferences:\n  com.example.App: { A: 1 }\ngroups:\n  g: { preferences: { com.Example.app: { A: 2 } } }\n`, expect: [['pref/unchecked-domain', 4, 3], ['pref/domain-case', 6, 23]], message: /com\.Example\.app is com\.example\.App with other capitals/ },
  { name: 'two domains of one map, one name but for capitals', yaml: `${HEADER}preferences:\n  com.example.App: { A: 1 }\n  com.example.app: { A: 2 }\n`, expect: [['pref/unchecked-domain', 4, 3], ['pref/domain-case', 5, 3]] },
  { name: 'an alias as a key stands for its text', yaml: `${HEADER}preferences:\n  com.apple.iChat:\n    &k Foo: 1\n  com.apple.x:\n    *k : 2\n`, expect: [['pref/unchecked-domain', 4, 3], ['pref/unchecked-domain', 6, 3]] },
  { name: 'a template variable that {{...}} could not name is one error, at it', yaml: `${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName, "my var": mail } }\n`, expect: [['schema/value', 3, 64]], message: /^"my var" cannot be a key of directory\.columns: A variable is letters, digits and _/ },
  { name: 'a template variable named as a word templates read otherwise ({{this}}, {{true}})', yaml: `${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName, this: mail, true: upn } }\n`, expect: [['schema/value', 3, 64], ['schema/value', 3, 76]], message: /^"this" cannot be a key of directory\.columns: .*and not \{\{this\}\}, .* or \{\{undefined\}\}, which a template reads otherwise/ },
  { name: 'a domain with a space, and an empty group name', yaml: `${HEADER}preferences:\n  "com apple": { a: 1 }\ngroups:\n  "": {}\n`, expect: [['pref/unchecked-domain', 4, 3], ['schema/value', 4, 3], ['schema/value', 6, 3]], message: /"com apple" cannot be a key of preferences: A preference domain is letters, digits, dots, - and _/ },
  { name: 'an account\'s boolean and port written as text say what to write', yaml: `${HEADER}directory: { file: users.csv, columns: { user: sAMAccountName } }\naccounts:\n  - { type: jabber, host: ichat.example.com, user: "{{user}}", ssl: yes, port: "5223" }\n`, expect: [['schema/type', 5, 69], ['schema/type', 5, 80]], message: /accounts\[0\]\.ssl must be a boolean, not a string: YAML 1\.2 reads yes as text \(write true\)\naccounts\[0\]\.port must be an integer, not a string: write 5223 without quotes/ },
  { name: 'a value of a list of words written otherwise gets a did-you-mean', yaml: `${HEADER}installPoint: { program: p, title: T, share: smb://x/y, archive: ZIP }\n`, expect: [['schema/value', 3, 66]], message: /^installPoint\.archive must be one of: zip, tar\.gz; did you mean zip\?$/ },
  { name: 'two group names that are one file name on a Mac', yaml: `${HEADER}groups:\n  R&D: {}\n  r-d: {}\n`, expect: [['rule/group-name-collision', 5, 3]] },
  { name: 'an inherited fault is reported once, where it was written', yaml: daemon('    RTCConfigurationMode: manual\n', 'groups:\n  a: {}\n  b: {}\n'), expect: [['rule/server-address-required', 5, 27]] },
];

for (const c of cases) {
  test(`rule: ${c.name}`, () => {
    const { diagnostics } = checkFleet('fleet.yaml', Buffer.from(c.yaml));
    assert.deepEqual(diagnostics.map((d) => [d.code, d.line, d.column]), c.expect);
    if (c.message) assert.match(diagnostics.map((d) => d.message).join('\n'), c.message);
  });
}

test('a group name becomes a file name and identifier part of letters, digits, - and _ (accents dropped, at most 64)', async () => {
  const { slugify } = await import('../src/fleet/normalize.js');
  assert.equal(slugify('Équipe Légale'), 'Equipe-Legale');
  assert.equal(slugify('  R&D / Labs_2 '), 'R-D-Labs_2');
  assert.equal(slugify('Ｆｕｌｌｗｉｄｔｈ'), 'Fullwidth');
  assert.equal(slugify('x'.repeat(80)).length, 64);
  assert.equal(slugify(`${'x'.repeat(63)} tail`), 'x'.repeat(63), 'a cut never leaves a trailing dash');
  assert.equal(slugify(`  ${'x'.repeat(64)}`), 'x'.repeat(64), 'leading spaces do not count towards the 64');
});

test('a group named in letters no ASCII spelling keeps (a Cyrillic or Japanese department) gets a slug with a hash of its name, never none or another\'s', async () => {
  const { checkFleet } = await import('../src/fleet/check.js');
  const { fleet, diagnostics } = checkFleet('fleet.yaml', Buffer.from(`${HEADER}groups:\n  Отдел продаж: {}\n  Отдел 1: {}\n  Группа 1: {}\n  営業部: {}\n  Équipe Légale: {}\n`));
  assert.deepEqual(diagnostics, []);
  const slugs = new Map(fleet!.groups.map((g) => [g.name, g.slug]));
  assert.equal(slugs.get('Équipe Légale'), 'Equipe-Legale', 'accented Latin keeps its readable slug');
  assert.match(slugs.get('Отдел продаж')!, /^group-[0-9a-f]{12}$/);
  assert.match(slugs.get('営業部')!, /^group-[0-9a-f]{12}$/);
  assert.match(slugs.get('Отдел 1')!, /^1-[0-9a-f]{12}$/);
  assert.equal(new Set(slugs.values()).size, 5);
});

test('a template is text and {{variable}} only: hash arguments, @data, helpers, paths and blocks are refused, and a variable must name a column', async () => {
  const { templateProblem } = await import('../src/fleet/templates.js');
  assert.equal(templateProblem('{{user}}@{{ email }}', ['user', 'email']), undefined);
  for (const text of ['{{user key=1}}', '{{@user}}', '{{lookup user}}', '{{user.name}}', '{{../user}}', '{{this.user}}', '{{./user}}']) {
    assert.match(templateProblem(text, ['user', 'lookup']) ?? '', /^only \{\{variable\}\} is allowed in a template \(no helpers or paths\)$/, text);
  }
  for (const text of ['{{#if user}}x{{/if}}', '{{> partial}}', '{{! note}}']) {
    assert.match(templateProblem(text, ['user']) ?? '', /no blocks, partials or comments/, text);
  }
  assert.match(templateProblem('{{mail}}', ['user', 'email']) ?? '', /^\{\{mail\}\} names no directory column; the columns are \{\{user\}\}, \{\{email\}\}$/);
});

test('rendering a template a row lacks a variable for throws, never writes an empty string', async () => {
  const { render } = await import('../src/fleet/templates.js');
  assert.equal(render('{{user}}@example.com', { user: 'jdoe' }), 'jdoe@example.com');
  assert.throws(() => render('{{user}}@example.com', {}), /"user" not defined in the directory row/);
  assert.throws(() => render('{{constructor}}', {}), /"constructor" not defined/);
});

test('did you mean: case ignored, the nearest first (the first of equals), nothing when every candidate is far', async () => {
  const { suggest } = await import('../src/diagnostics/suggest.js');
  assert.equal(suggest('disallowsave', ['HideTimeStamp', 'DisallowSave']), 'DisallowSave');
  assert.equal(suggest('cat', ['cut', 'ca']), 'cut', 'a substitution costs what a deletion does; the first of equals wins');
  assert.equal(suggest('abc', ['xyz']), undefined);
  assert.equal(suggest('AutoldleDelay', ['AutoIdleDelay', 'AutoLogin']), 'AutoIdleDelay');
});

test('diagnostics in file, line, column, then code order; a key path shown as it is written', async () => {
  const { displayKeyPath, sortDiagnostics } = await import('../src/diagnostics/diagnostic.js');
  const d = (line: number, column: number, code: 'schema/type' | 'pref/type') => ({ code, severity: 'error' as const, message: 'm', file: 'f.yaml', line, column });
  assert.deepEqual(sortDiagnostics([d(2, 9, 'pref/type'), d(2, 3, 'schema/type'), d(2, 3, 'pref/type'), d(1, 40, 'schema/type')]).map((x) => [x.line, x.column, x.code]),
    [[1, 40, 'schema/type'], [2, 3, 'pref/type'], [2, 3, 'schema/type'], [2, 9, 'pref/type']]);
  assert.equal(displayKeyPath(['preferences', 'com.microsoft.Messenger', 'DisallowSave']), 'preferences["com.microsoft.Messenger"].DisallowSave');
  assert.equal(displayKeyPath(['accounts', 0, 'host']), 'accounts[0].host');
  assert.equal(displayKeyPath([]), '(document)');
});
