// Section A of shared/guides/hostile-inputs.md: each bad fleet.yaml gives exactly one located error with a
// stable code, exit 2, no stack trace, and the previous build folder untouched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkFleet } from '../src/fleet/check.js';
import { exampleCopy, HEADER, mdmgen, snapshotTree, tempDir, writeFleet } from './helpers/helpers.js';

interface Case { name: string; yaml: string | Buffer; code: string; at?: [number, number]; offset?: number; message?: RegExp }

const prefs = (domain: string, body: string) => `${HEADER}preferences:\n  ${domain}:\n${body}`;
const aliasBomb = () => {
  let s = `${HEADER}preferences:\n  com.apple.iChat:\n    a: &a [1,2,3,4,5,6,7,8,9]\n`;
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) s += `    ${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]\n`;
  return s;
};

const UTF8_PREFIX = `${HEADER}preferences: { com.apple.iChat: { X: "caf`;

const cases: Case[] = [
  { name: '1 duplicate mapping key', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: true\n    DisallowSave: false\n'), code: 'yaml/duplicate-key', at: [6, 5] },
  { name: '2 file-mode style 0600 (YAML 1.2 reads decimal 600)', yaml: prefs('com.microsoft.MessengerDaemon', '    AutoIdleDelay: 0600\n'), code: 'yaml/ambiguous-octal', at: [5, 20], message: /0o600/ },
  { name: '3 key with no value', yaml: prefs('com.microsoft.Messenger', '    DisallowSave:\n'), code: 'pref/type', at: [5, 18], message: /has no value/ },
  { name: '3 an empty file (or only comments)', yaml: '# fleet.yaml, to be written\n', code: 'schema/type', at: [1, 1], message: /^the file is empty; `mdmgen init` writes/ },
  { name: '3 a required key left out, located on the map that lacks it', yaml: 'mdmgen: 1\norganization:\n  name: Example Corp\n', code: 'schema/required', at: [2, 1], message: /organization is missing the required key "identifier"/ },
  { name: '3 structural key with no value', yaml: 'mdmgen: 1\norganization:\n  name:\n  identifier: com.example.im\n', code: 'schema/type', at: [3, 8], message: /no value/ },
  { name: '4 alias bomb', yaml: aliasBomb(), code: 'yaml/alias-limit' },
  { name: '5 nesting 5000 deep', yaml: prefs('com.apple.iChat', `    X: ${'['.repeat(5000)}${']'.repeat(5000)}\n`), code: 'yaml/too-deep' },
  { name: '5 nesting 100 deep (parses, still refused)', yaml: prefs('com.apple.iChat', `    X: ${'['.repeat(100)}${']'.repeat(100)}\n`), code: 'yaml/too-deep', at: [5, 69] },
  { name: '6 __proto__ key', yaml: prefs('com.apple.iChat', '    __proto__: { polluted: yes }\n'), code: 'yaml/reserved-key', at: [5, 5] },
  { name: '6 constructor key deep inside', yaml: prefs('com.apple.iChat', '    a:\n      b:\n        constructor: { polluted: yes }\n'), code: 'yaml/reserved-key', at: [7, 9] },
  { name: '6 __proto__ inside a << merge', yaml: prefs('com.apple.iChat', '    base: &b { __proto__: { polluted: yes } }\n    m:\n      <<: *b\n'), code: 'yaml/reserved-key', at: [5, 16] },
  { name: '7 repeated merges x8000', yaml: prefs('com.apple.iChat', `    a: &a { k: 1 }\n    m:\n      <<: [${Array(8000).fill('*a').join(',')}]\n`), code: 'yaml/alias-limit' },
  { name: '8 integer beyond 2^64', yaml: prefs('com.microsoft.MessengerDaemon', '    AutoIdleDelay: 123456789012345678901\n'), code: 'yaml/integer-out-of-range', at: [5, 20] },
  { name: '8 integer beyond 2^53 for an integer key', yaml: prefs('com.microsoft.MessengerDaemon', '    AutoIdleDelay: 9007199254740993\n'), code: 'pref/type', at: [5, 20] },
  { name: '9 1.0 where an integer is required', yaml: prefs('com.microsoft.MessengerDaemon', '    AutoIdleDelay: 1.0\n'), code: 'pref/type', at: [5, 20], message: /without the decimal point/ },
  { name: '9 1.5 where an integer is required', yaml: prefs('com.microsoft.MessengerDaemon', '    PortRangeMinSIPDynamicPort: 1.5\n'), code: 'pref/type', at: [5, 33] },
  { name: '10 .nan', yaml: prefs('com.apple.iChat', '    X: .nan\n'), code: 'yaml/not-finite', at: [5, 8] },
  { name: '10 .inf', yaml: prefs('com.apple.iChat', '    X: -.inf\n'), code: 'yaml/not-finite', at: [5, 8] },
  // YAML 1.1's typed tags load as a Buffer, a Date, a Set or a Map: a !!set of keys was read as an empty map.
  { name: '!!set of keys for a domain', yaml: prefs('com.microsoft.Messenger', '').replace(/:\n$/, ': !!set { DisallowSave }\n'), code: 'yaml/unsupported-type', at: [4, 34], message: /^!!set is a YAML 1\.1 type with no plist form: write a list$/ },
  { name: '!!omap for a dictionary', yaml: prefs('com.apple.iChat', '    Window: !!omap [ x: 1, y: 2 ]\n'), code: 'yaml/unsupported-type', at: [5, 20], message: /!!omap .*write a map/ },
  { name: '!!pairs for a dictionary', yaml: prefs('com.apple.iChat', '    Window: !!pairs [ x: 1 ]\n'), code: 'yaml/unsupported-type', at: [5, 21] },
  { name: '!!binary, which was written as a dictionary of byte numbers', yaml: prefs('com.apple.iChat', '    Blob: !!binary aGVsbG8=\n'), code: 'yaml/unsupported-type', at: [5, 20], message: /base64 text as a plain string/ },
  { name: '!!binary in a string field', yaml: `mdmgen: 1\norganization: { name: !!binary aGVsbG8=, identifier: com.example.im }\n`, code: 'yaml/unsupported-type', at: [2, 32] },
  { name: '!!timestamp', yaml: prefs('com.apple.iChat', '    When: !!timestamp 2001-12-14t21:59:43.10-05:00\n'), code: 'yaml/unsupported-type', at: [5, 23] },
  // A plist's keys are text: keys YAML keeps apart but an object cannot were merged, or dropped, silently.
  { name: '1 the keys 1 and "1"', yaml: prefs('com.apple.iChat', '    1: a\n    "1": b\n'), code: 'yaml/duplicate-key', at: [6, 5], message: /^the key "1" is in this map twice, as a number and as text: a plist's keys are all text$/ },
  { name: '1 the keys true and "true"', yaml: prefs('com.apple.iChat', '    true: a\n    "true": b\n'), code: 'yaml/duplicate-key', at: [6, 5], message: /as a boolean and as text/ },
  { name: 'an empty key (~), which became ""', yaml: prefs('com.apple.iChat', '    ~: a\n    "": b\n'), code: 'yaml/unsupported-type', at: [5, 5], message: /^a key must be text, not empty$/ },
  { name: 'a list as a key, which became "[ x ]"', yaml: prefs('com.apple.iChat', '    ? [x]\n    : a\n'), code: 'yaml/unsupported-type', at: [5, 7], message: /^a key must be text, not a list or a map$/ },
  { name: '11 control character', yaml: prefs('com.microsoft.MessengerDaemon', '    SOCKS5Username: "S3cr3t-SENTINEL\\u0001"\n'), code: 'yaml/invalid-character', at: [5, 21] },
  { name: '11 control character first', yaml: prefs('com.microsoft.MessengerDaemon', '    SOCKS5Username: "\\u0001S3cr3t-SENTINEL"\n'), code: 'yaml/invalid-character', at: [5, 21], message: /U\+0001 at character 1,/ },
  { name: '11 U+FFFF, a noncharacter XML refuses', yaml: prefs('com.microsoft.MessengerDaemon', '    SOCKS5Username: "S3cr3t-SENTINEL\\uffff"\n'), code: 'yaml/invalid-character', at: [5, 21], message: /U\+FFFF at character 16,/ },
  { name: '11 lone surrogate', yaml: prefs('com.microsoft.MessengerDaemon', '    SOCKS5Username: "S3cr3t-SENTINEL\\ud800"\n'), code: 'yaml/invalid-character', at: [5, 21] },
  { name: '12 invalid UTF-8', yaml: Buffer.concat([Buffer.from(UTF8_PREFIX), Buffer.from([0xc3, 0x28]), Buffer.from('" } }\n')]), code: 'yaml/invalid-utf8', offset: Buffer.byteLength(UTF8_PREFIX) },
  { name: '12 an encoded surrogate (CESU-8)', yaml: Buffer.concat([Buffer.from(UTF8_PREFIX), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('" } }\n')]), code: 'yaml/invalid-utf8', offset: Buffer.byteLength(UTF8_PREFIX) },
  { name: '12 an overlong encoding of "/"', yaml: Buffer.concat([Buffer.from(UTF8_PREFIX), Buffer.from([0xe0, 0x80, 0xaf]), Buffer.from('" } }\n')]), code: 'yaml/invalid-utf8', offset: Buffer.byteLength(UTF8_PREFIX) },
  { name: '13 two documents', yaml: `${HEADER}---\nmdmgen: 1\n`, code: 'yaml/multiple-documents', at: [3, 1] },
  { name: '14 typo at the top level', yaml: `${HEADER}organisation: {}\n`, code: 'schema/unknown-key', at: [3, 1], message: /did you mean "organization"/ },
  { name: '14 the seed\'s PDF spelling AutoldleDelay', yaml: prefs('com.microsoft.MessengerDaemon', '    AutoldleDelay: 5\n'), code: 'schema/unknown-key', at: [5, 5], message: /did you mean "AutoIdleDelay"/ },
  { name: '15 "true" as a string for a boolean', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: "true"\n'), code: 'pref/type', at: [5, 19], message: /not a string: write true without quotes$/ },
  { name: '15 YES, as the deployment guide writes it, for a boolean (YAML 1.2: text)', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: YES\n'), code: 'pref/type', at: [5, 19], message: /not a string: YAML 1\.2 reads YES as text \(write true\)$/ },
  { name: '15 TLS for tls', yaml: prefs('com.microsoft.MessengerDaemon', '    RTCTransport: TLS\n'), code: 'pref/type', at: [5, 19], message: /not "TLS"; did you mean tls\?$/ },
  { name: '15 text that is not base64 for a data key', yaml: prefs('com.microsoft.Messenger', '    InstantMessageTextStyles: "not base64!"\n'), code: 'pref/type', at: [5, 31], message: /must be base64-encoded data, not a string$/ },
  { name: '15 a number outside a key\'s named values', yaml: prefs('com.microsoft.MessengerDaemon', '    RTCTransport: 3\n'), code: 'pref/type', at: [5, 19], message: /RTCTransport must be one of tls \(4\), tcp \(2\), not 3$/ },
  { name: '15 a port above 65535', yaml: prefs('com.microsoft.MessengerDaemon', '    PortRangeMaxSIPDynamicPort: 70000\n'), code: 'pref/type', at: [5, 33], message: /must be between 1024 and 65535, not 70000$/ },
  { name: '15 a number for a string field', yaml: 'mdmgen: 1\norganization: { name: 5, identifier: com.example.im }\n', code: 'schema/type', at: [2, 23] },
  { name: '16 1 MB string in a field with a pattern', yaml: `mdmgen: 1\norganization: { name: X, identifier: "${'a.'.repeat(500_000)}a" }\n`, code: 'schema/value', at: [2, 38], message: /more than 200/ },
  { name: '17 a file of more than 8 MB', yaml: `${HEADER}${'# padding\n'.repeat(900_000)}`, code: 'yaml/too-large', message: /is 9000\d+ bytes; the limit is 8388608/ },
  { name: '18 a value merged in with <<, located where it is written', yaml: `${HEADER}preferences:\n  com.apple.iChat:\n    Template: &t { DisallowSave: "yes" }\ngroups:\n  Eng:\n    preferences:\n      com.microsoft.Messenger:\n        <<: *t\n`, code: 'pref/type', at: [5, 34] },
  { name: '18 a typo in a group whose name holds "/" and "~"', yaml: `${HEADER}groups:\n  R&D/Labs~1:\n    descriptio: x\n`, code: 'schema/unknown-key', at: [5, 5], message: /in groups\["R&D\/Labs~1"\]; did you mean "description"/ },
  { name: '19 a slip in { value, manage }', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: { value: true, manag: once }\n'), code: 'schema/unknown-key', at: [5, 34], message: /unknown key "manag" in DisallowSave: a setting is a value, or \{ value, manage \}; did you mean "manage"\?/ },
  { name: '19 manage with other capitals', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: { value: true, manage: Forced }\n'), code: 'pref/type', at: [5, 42], message: /^manage must be forced, once or often, not "Forced"; did you mean forced\?$/ },
  { name: '3 manage with no value is not taken for forced', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: { value: true, manage: ~ }\n'), code: 'pref/type', at: [5, 42], message: /^manage must be forced, once or often, not empty$/ },
  { name: '19 { manage } without its value', yaml: prefs('com.microsoft.Messenger', '    DisallowSave: { manage: once }\n'), code: 'schema/required', at: [5, 5], message: /DisallowSave is written as \{ manage \} without its value/ },
];

for (const c of cases) {
  test(`A${c.name}: one located error`, { timeout: 20_000 }, () => {
    const { diagnostics, fleet } = checkFleet('fleet.yaml', typeof c.yaml === 'string' ? Buffer.from(c.yaml) : c.yaml);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.equal(fleet, undefined);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const [error] = errors;
    assert.equal(error!.code, c.code);
    if (c.at) assert.deepEqual([error!.line, error!.column], c.at);
    if (c.offset !== undefined) assert.equal(error!.offset, c.offset);
    if (c.message) assert.match(error!.message, c.message);
    assert.doesNotMatch(error!.message, /SENTINEL/, 'a string value is never echoed');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  });
}

test('a YAML warning (an unknown tag, an unknown directive) is reported where it is, and the fleet still loads', () => {
  const { diagnostics, fleet } = checkFleet('fleet.yaml', Buffer.from(`%FOO bar\n---\n${prefs('com.apple.iChat', '    X: !custom 1\n')}`));
  assert.ok(fleet);
  assert.deepEqual(diagnostics.filter((d) => d.code === 'yaml/warning').map((d) => [d.severity, d.line, d.column, d.message]), [
    ['warning', 1, 1, 'Unknown directive %FOO'],
    ['warning', 7, 8, 'Unresolved tag: !custom'],
  ]);
});

test('a setting written as { value } alone is forced, as a plain value is', () => {
  const { fleet } = checkFleet('fleet.yaml', Buffer.from(prefs('com.microsoft.Messenger', '    DisallowSave: { value: true }\n    HideTimeStamp: false\n')));
  const settings = fleet!.base.get('com.microsoft.Messenger')!;
  assert.deepEqual([settings.get('DisallowSave')!.manage, settings.get('HideTimeStamp')!.manage], ['forced', 'forced']);
});

test('schema errors: every missing key of a map is named; a value that fits none of its forms is one error, not one per form', () => {
  const empty = checkFleet('fleet.yaml', Buffer.from('mdmgen: 1\norganization: {}\n')).diagnostics;
  assert.deepEqual(empty.map((d) => [d.code, d.line, d.column, d.message]), [
    ['schema/required', 2, 1, 'organization is missing the required key "identifier"'],
    ['schema/required', 2, 1, 'organization is missing the required key "name"'],
  ]);
  const secret = checkFleet('fleet.yaml', Buffer.from(`${HEADER}accounts:\n  - { type: jabber, host: ichat.example.com, password: 5 }\n`)).diagnostics;
  assert.deepEqual(secret.map((d) => [d.code, d.line, d.column]), [['schema/value', 4, 56]]);
  assert.match(secret[0]!.message, /accounts\[0\]\.password is not valid: A secret is never written in fleet\.yaml/);
});

test('through the CLI: exit 2, no stack trace, and the previous build stays byte-identical', { timeout: 120_000 }, () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  assert.equal(mdmgen(['build', exampleCopy(), '-o', out]).code, 0);
  const before = snapshotTree(out);
  for (const c of cases) {
    const file = writeFleet(c.yaml, dir);
    const run = mdmgen(['build', file, '-o', out]);
    assert.equal(run.code, 2, `${c.name}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(c.code.replace('/', '\\/')), c.name);
    assert.doesNotMatch(run.stderr, /\n\s+at |SENTINEL/, `${c.name}: no stack trace, no value`);
    assert.equal(run.stdout, '', `${c.name}: nothing on stdout`);
  }
  assert.deepEqual(snapshotTree(out), before);
  assert.ok(!existsSync(join(dir, 'build')), 'nothing written next to the fleet file either');
});
