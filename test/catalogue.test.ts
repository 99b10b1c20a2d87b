import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, SHARED } from './helpers/helpers.js';

// Every item of shared/guides/hostile-inputs.md, sections A to F, and the test that proves mdmgen survives
// it, with what it expects. Sections A, E and F are tables of fixtures named by item number (the item's
// number starts each case's name); B, C and D are tests named here. This file fails when the guide gains an
// item with no row, or when a row names a test or a case that no longer exists.
type Row = { file: string; test: string; expect: string };
const A = (n: number, expect: string): Row => ({ file: 'hostile-yaml.test.ts', test: `name: '${n} `, expect: `${expect}; exit 2, nothing written, previous build byte-identical` });
const E = (n: number, expect = 'audit/unreadable with the byte offset'): Row => ({ file: 'hostile-plists.test.ts', test: `E${n} `, expect: `${expect}; exit 1, the run goes on` });
const F = (n: number, expect = 'audit/unreadable with the line'): Row => ({ file: 'hostile-plists.test.ts', test: `F${n} `, expect: `${expect}; exit 1, the run goes on` });
const T = (file: string, test: string, expect: string): Row => ({ file, test, expect });

const CATALOGUE: Record<number, Row[]> = {
  1: [A(1, 'yaml/duplicate-key at the second key')],
  2: [A(2, 'yaml/ambiguous-octal suggesting 0o600')],
  3: [A(3, 'pref/type or schema/type: no value')],
  4: [A(4, 'yaml/alias-limit')],
  5: [A(5, 'yaml/too-deep')],
  6: [A(6, 'yaml/reserved-key, Object.prototype untouched')],
  7: [A(7, 'yaml/alias-limit in bounded time')],
  8: [A(8, 'yaml/integer-out-of-range or pref/type')],
  9: [A(9, 'pref/type: 1.0 and 1.5 for an integer key')],
  10: [A(10, 'yaml/not-finite')],
  11: [A(11, 'yaml/invalid-character naming the key path, never the value')],
  12: [A(12, 'yaml/invalid-utf8 with the byte offset')],
  13: [A(13, 'yaml/multiple-documents')],
  14: [A(14, 'schema/unknown-key with did-you-mean')],
  15: [A(15, 'pref/type or schema/type, no coercion')],
  16: [A(16, 'schema/value: the length limit first')],
  17: [T('build.test.ts', 'byte-identical output in any time zone and locale', 'identical bytes; exit 0')],
  18: [T('build.test.ts', 'no PayloadIdentifier or PayloadUUID is used twice across the whole output', 'unique identities; exit 0'),
    T('scale.test.ts', 'plus a payload suffix would share an identifier: exit 2, nothing written', 'build/duplicate-identifier; exit 2'),
    T('scale.test.ts', 'two accounts whose hosts make one identifier', 'build/duplicate-identifier; exit 2')],
  19: [T('directory.test.ts', 'hostile user names get safe, distinct file names inside the output folder', 'safe names; exit 0, nothing outside the folder')],
  20: [T('directory.test.ts', 'names that are one name to a Mac (case, ß, Unicode normalisation) are an error naming both lines', 'directory/duplicate-user at users.csv:LINE; exit 2')],
  21: [T('output.test.ts', 'an output folder that is a symlink is replaced as a link; its target is never written', 'target untouched; exit 0')],
  22: [T('output.test.ts', 'killed with SIGKILL at any moment, the output folder is the old build or the new one, never a mix', 'old or new build, never a mix'),
    T('output.test.ts', 'a full disk: exit 2 saying so, the previous build kept byte for byte, no partial file', 'io/write-failed "the disk is full"; exit 2'),
    T('output.test.ts', 'a read-only disk: exit 2 saying so, nothing written', 'io/write-failed "read-only"; exit 2')],
  23: [T('signing.test.ts', 'the signing key never reaches the output', 'mdmgen writes no private key, so no key file can have the wrong mode')],
  24: [T('directory.test.ts', 'secrets: the sentinel appears only in the payloads that need it, never in output, logs, manifest or temp files', 'the sentinel only in the payloads'),
    T('hostile-yaml.test.ts', '11 control character', 'no secret echoed')],
  25: [T('install-point.test.ts', 'archive entry names are checked before archiver sees them', 'install-point/program; exit 2')],
  26: [T('install-point.test.ts', 'the program: an inside symlink is followed, one leading outside is refused', 'install-point/program; exit 2; no symlink entries')],
  27: [T('install-point.test.ts', 'names that differ only in case are refused', 'install-point/program; exit 2')],
  28: [T('install-point.test.ts', 'zip archive: sorted entries, fixed dates, modes 0644 and 0755, no symlinks, SHA256SUMS inside, identical bytes on every build', 'identical bytes'),
    T('install-point.test.ts', 'tar.gz archive: modes, numeric owners without names, fixed dates, identical bytes', 'identical bytes')],
  29: [T('output.test.ts', 'killed with SIGKILL at any moment', 'the archive is written inside the staging folder: no .zip at the final path unless the whole build is there')],
  30: [T('signing.test.ts', 'a signing identity Macs would reject is refused before anything is written', 'signing/* error (expired, not yet valid); exit 2')],
  31: [T('signing.test.ts', 'a signing identity Macs would reject is refused before anything is written', 'signing/* error (no digitalSignature); exit 2')],
  32: [T('signing.test.ts', 'a signing identity Macs would reject is refused before anything is written', 'signing/* error (key does not match); exit 2')],
  33: [T('signing.test.ts', 'warnings: the signer expires within 30 days, and a chain that does not reach a root', 'a warning; exit 0')],
  34: [T('signing.test.ts', 'an EC signer signs, and OpenSSL verifies it', 'EC is supported (node:crypto, not forge): signed and verified'),
    T('signing.test.ts', 'an EC root give one anchor each', 'an EC root is imported')],
  35: [T('signing.test.ts', 'trust anchors: a PEM bundle with junk and CRLF, the same CA as DER', 'every certificate imported, in order'),
    T('signing.test.ts', 'trust anchors refused: not a CA, expired, pin mismatch, trailing DER bytes, a TRUSTED CERTIFICATE block', 'trust/* error with the file; exit 2')],
  36: [T('signing.test.ts', 'nested.der', 'trust/unreadable, no RangeError; exit 2')],
  37: [T('signing.test.ts', 'every profile is signed: OpenSSL verifies each, and the content it extracts is the unsigned profile, byte for byte', 'Café Zürich 東京 verifies and extracts byte for byte')],
  38: [T('signing.test.ts', 'the same input gives identical signed bytes (RSA); signingTime only when asked for', 'identical bytes without signingTime')],
  39: [T('signing.test.ts', 'passphrase never echoed', 'signing/passphrase; exit 2; the passphrase never printed')],
  40: [E(40, 'audit/unreadable: too short, unsupported version')],
  41: [E(41)], 42: [E(42)], 43: [E(43, 'audit/unreadable before any allocation')], 44: [E(44, 'audit/unreadable: reference cycle')],
  45: [E(45, 'read in milliseconds, each object once')], 46: [E(46, 'audit/unreadable: depth over 512')],
  47: [E(47, 'keys as data; duplicates as audit/duplicate-key')], 48: [E(48)], 49: [E(49)], 50: [E(50)],
  51: [F(51, 'audit/unreadable: entity declarations refused, nothing fetched')], 52: [F(52, 'the key as its final text')],
  53: [F(53)], 54: [F(54, 'audit/unreadable with the byte offset; UTF-16 with a BOM read')], 55: [F(55)],
  56: [F(56, 'Apple\'s value exactly, or audit/unreadable')], 57: [F(57, 'audit/unreadable: size cap and depth cap')],
};

test('every item of the hostile-inputs catalogue (A to F) has a test, and every test named here exists', () => {
  const guide = readFileSync(join(SHARED, 'guides/hostile-inputs.md'), 'utf8');
  const sections = guide.slice(guide.indexOf('### A.'), guide.indexOf('## How the most trusted parsers'));
  const items = [...sections.matchAll(/^(\d+)\. \*\*/gm)].map((m) => Number(m[1]));
  assert.ok(items.length >= 57, `found ${items.length} items in the guide`);
  assert.deepEqual(items.filter((n) => !CATALOGUE[n]), [], 'items of the guide without a row here');
  for (const [item, rows] of Object.entries(CATALOGUE)) {
    for (const row of rows) {
      const source = readFileSync(join(ROOT, 'test', row.file), 'utf8');
      assert.ok(source.includes(row.test), `item ${item}: ${row.file} has no "${row.test}"`);
    }
  }
});
