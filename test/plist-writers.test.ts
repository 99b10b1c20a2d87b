import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Real, type PlistValue } from '../src/plist/value.js';
import { writeBinaryPlist } from '../src/plist/write-binary.js';
import { writeXmlPlist } from '../src/plist/write-xml.js';
import { loadWithPlistlib, tempDir } from './helpers/helpers.js';

const sample: PlistValue = {
  text: 'Café Zürich 東京 & <b> "q" \'a\' ]]> 🎉 \t\n',
  ascii: 'x'.repeat(20),
  ints: [0, 1, 255, 256, 65535, 65536, 4294967295, 4294967296, -1, -129, Number.MAX_SAFE_INTEGER, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 64n - 1n],
  reals: [new Real(1), new Real(0.1), new Real(-2.5e300), new Real(0)],
  bools: [true, false],
  date: new Date(Date.UTC(2026, 10, 21, 12, 34, 56)),
  data: new Uint8Array([0, 1, 2, 254, 255]),
  empty: { dict: {}, array: [], data: new Uint8Array(0), string: '' },
  '2': 'integer-like keys are sorted as text', b: 'after 2', A: 'before b', '10': 'before 2',
};

const expected = {
  type: 'dict',
  value: {
    '10': { type: 'string', value: 'before 2' },
    '2': { type: 'string', value: 'integer-like keys are sorted as text' },
    A: { type: 'string', value: 'before b' },
    ascii: { type: 'string', value: 'x'.repeat(20) },
    b: { type: 'string', value: 'after 2' },
    bools: { type: 'array', value: [{ type: 'bool', value: true }, { type: 'bool', value: false }] },
    data: { type: 'data', value: 'AAEC/v8=' },
    date: { type: 'date', value: '2026-11-21T12:34:56Z' },
    empty: { type: 'dict', value: { array: { type: 'array', value: [] }, data: { type: 'data', value: '' }, dict: { type: 'dict', value: {} }, string: { type: 'string', value: '' } } },
    ints: { type: 'array', value: ['0', '1', '255', '256', '65535', '65536', '4294967295', '4294967296', '-1', '-129', '9007199254740991', '-9223372036854775808', '9223372036854775807', '18446744073709551615'].map((value) => ({ type: 'integer', value })) },
    reals: { type: 'array', value: [1, 0.1, -2.5e300, 0].map((value) => ({ type: 'real', value })) },
    text: { type: 'string', value: 'Café Zürich 東京 & <b> "q" \'a\' ]]> 🎉 \t\n' },
  },
};

for (const [name, write] of [['XML', writeXmlPlist], ['binary', writeBinaryPlist]] as const) {
  test(`${name} writer: every type round-trips exactly through plistlib, keys in CoreFoundation order`, () => {
    const file = join(tempDir(), `sample.${name}.plist`);
    writeFileSync(file, write(sample));
    const loaded = loadWithPlistlib(file);
    assert.deepEqual(loaded, expected);
    // Read the order from plistlib itself: a JS object would move integer-like keys first.
    const order = spawnSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(list(plistlib.load(open(sys.argv[1], "rb")))))', file], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(order.stdout), ['10', '2', 'A', 'ascii', 'b', 'bools', 'data', 'date', 'empty', 'ints', 'reals', 'text']);
  });

  test(`${name} writer: refuses what a plist cannot hold, without echoing the value`, () => {
    // XML cannot carry U+0001, a year of five digits, nor a fraction of a second; neither format can carry a lone surrogate.
    const strings = name === 'XML' ? [{ secret: 'S3cr3t-SENTINEL\u0001' }, { d: new Date(Date.UTC(10000, 0, 1)) }, { d: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 500)) }] : [];
    for (const bad of [...strings, { secret: 'S3cr3t-SENTINEL\ud800' }, { n: 1.5 }, { r: new Real(Number.NaN) }, { d: new Date(Number.NaN) }]) {
      assert.throws(() => write(bad as unknown as PlistValue), (error: Error) => !error.message.includes('SENTINEL'));
    }
  });
}

test('binary writer: references as wide as the object count needs, as CoreFoundation writes and reads them', async () => {
  const { readBinaryPlist } = await import('../src/plist/read-binary.js');
  // An array of n distinct integers is n + 1 objects; CoreFoundation refuses 256 objects with 1-byte references.
  for (const [n, refSize] of [[254, 1], [255, 2], [65534, 2], [65535, 4]] as const) {
    const items = Array.from({ length: n }, (_, i) => i + 1000);
    const bytes = writeBinaryPlist(items);
    assert.equal(bytes[bytes.length - 32 + 7], refSize, `${n + 1} objects`);
    assert.deepEqual(readBinaryPlist(bytes).value, items);
  }
});

test('binary writer: a value written once and shared is never confused with another of a different type', async () => {
  const { readBinaryPlist } = await import('../src/plist/read-binary.js');
  const value = { a: 1, b: 'i1', c: true, d: 'btrue', e: 'r1', f: new Real(1), g: 's', h: ['i1', 1, 'i1'] };
  assert.deepEqual({ ...(readBinaryPlist(writeBinaryPlist(value)).value as object) }, value);
});

test('XML writer uses Apple\'s layout: header, tabs, self-closing booleans', () => {
  const xml = writeXmlPlist({ On: true, Name: 'a&b' }).toString();
  assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n\t<key>Name</key>\n\t<string>a&amp;b</string>\n\t<key>On</key>\n\t<true/>\n</dict>\n</plist>\n');
});

// Why mdmgen writes and reads plists itself instead of with the `plist` package (a required dependency,
// kept for this comparison). If a release of plist fixes these, the choice is worth revisiting.
test('the plist package\'s gaps that mdmgen\'s own writers and reader exist for', async () => {
  const plist = await import('plist');
  assert.match(plist.build({ ratio: 1.0 }), /<integer>1<\/integer>/, 'plist.build writes the real 1.0 as an integer');
  assert.doesNotMatch(plist.build({ gone: null as unknown as string, kept: 'x' }), /gone/, 'plist.build drops keys whose value is null');
  const { readPlist } = await import('../src/plist/read.js');
  const big = readPlist(Buffer.from(plist.buildBinary({ n: 5_000_000_000 }))).value as Record<string, unknown>;
  assert.ok(big.n instanceof Real, 'plist.buildBinary stores an integer of 2^32 or more as a real');
  assert.equal((plist.parse('<plist><integer>12abc</integer></plist>') as unknown), 12, 'plist.parse reads 12abc as 12');
  assert.equal(writeXmlPlist({ ratio: new Real(1) }).toString().includes('<real>1</real>'), true);
});
