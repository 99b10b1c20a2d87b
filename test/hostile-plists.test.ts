// Sections E and F of shared/guides/hostile-inputs.md: untrusted binary and XML plists, each a file on disk.
// Each is one audit/unreadable finding with its byte offset or line (or, where Apple reads it, exactly
// Apple's value), in bounded time, with Object.prototype untouched; and the run goes on to the next file.
import assert from 'node:assert/strict';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPlist } from '../src/plist/read.js';
import { isDict, Real, type PlistValue } from '../src/plist/value.js';
import { mdmgen, ROOT, tempDir } from './helpers/helpers.js';

/** A binary plist from raw objects, with every trailer field overridable. */
function bplist(objects: Buffer[], o: { offsetSize?: number; refSize?: number; numObjects?: bigint; top?: bigint; tableOffset?: bigint; offsets?: number[]; trailing?: Buffer; magic?: string } = {}): Buffer {
  const offsetSize = o.offsetSize ?? 2;
  const body: Buffer[] = [Buffer.from(o.magic ?? 'bplist00', 'latin1')];
  const offsets: number[] = [];
  let at = 8;
  for (const object of objects) {
    offsets.push(at);
    body.push(object);
    at += object.length;
  }
  const table = Buffer.alloc((o.offsets ?? offsets).length * offsetSize);
  (o.offsets ?? offsets).forEach((v, i) => {
    for (let k = 0; k < offsetSize; k++) table[i * offsetSize + k] = Math.floor(v / 256 ** (offsetSize - 1 - k)) % 256;
  });
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = o.refSize ?? 1;
  trailer.writeBigUInt64BE(o.numObjects ?? BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(o.top ?? 0n, 16);
  trailer.writeBigUInt64BE(o.tableOffset ?? BigInt(at), 24);
  return Buffer.concat([...body, table, ...(o.trailing ? [o.trailing] : []), trailer]);
}
/** Sets byte `index` of the 32-byte trailer. */
function withTrailerByte(bytes: Buffer, index: number, value: number): Buffer {
  bytes[bytes.length - 32 + index] = value;
  return bytes;
}
const ascii = (s: string) => Buffer.concat([Buffer.from([0x50 | s.length]), Buffer.from(s, 'latin1')]);
const dict1 = (k: number, v: number) => Buffer.from([0xd1, k, v]);
/** A data object of `n` (15 to 255) bytes: marker, 1-byte size, then the bytes. */
const data = (n: number) => Buffer.concat([Buffer.from([0x4f, 0x10, n]), Buffer.alloc(n, 0x61)]);
const XML = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`;

/** A chain of n single-element arrays, the last holding an empty dict. */
function nested(n: number): Buffer {
  const objects = Array.from({ length: n }, (_, i) => Buffer.from([0xa1, ...intRef(i + 1, 4)]));
  objects.push(Buffer.from([0xd0]));
  return bplist(objects, { refSize: 4, offsetSize: 4 });
}
function intRef(v: number, size: number): number[] {
  return Array.from({ length: size }, (_, i) => (v >> (8 * (size - 1 - i))) & 0xff);
}
/** 24 arrays, each holding the next one twice: 2^24 paths through 25 objects. */
function dagBomb(): Buffer {
  const objects = Array.from({ length: 24 }, (_, i) => Buffer.from([0xa2, i + 1, i + 1]));
  objects.push(Buffer.from([0x08]));
  return bplist(objects);
}
const sized = (marker: number, count: bigint) => { const b = Buffer.alloc(10); b[0] = marker | 0x0f; b[1] = 0x13; b.writeBigUInt64BE(count, 2); return b; };

const UTF8_PREFIX = XML('<string>caf').split('</string>')[0]!;

interface Case { name: string; bytes: Buffer; expect: RegExp | ((value: unknown) => void) }
const unreadable = (pattern: RegExp) => pattern;

const cases: Case[] = [
  // E. binary
  { name: 'E40 shorter than 40 bytes', bytes: Buffer.from('bplist00\x00\x01\x02', 'latin1'), expect: unreadable(/too short/) },
  { name: 'E40 bplist01', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { magic: 'bplist01' }), expect: unreadable(/unsupported binary plist version "01"/) },
  { name: 'E40 bplist15', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { magic: 'bplist15' }), expect: unreadable(/unsupported binary plist version "15"/) },
  { name: 'E41 offset table past the trailer', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { tableOffset: 10_000n }), expect: unreadable(/offset table outside the file/) },
  { name: 'E41 offset table at 2^64-1', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { tableOffset: 2n ** 64n - 1n }), expect: unreadable(/offset table outside the file/) },
  { name: 'E41 offsetSize 0', bytes: withTrailerByte(bplist([dict1(1, 2), ascii('a'), ascii('b')], { offsetSize: 1 }), 6, 0), expect: unreadable(/offset or reference size out of range/) },
  // Found by the mutation property test: 7-byte offsets once threw a RangeError instead of a PlistError.
  { name: 'E41 offsetSize 7', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { offsetSize: 7 }), expect: (v) => assert.deepEqual({ ...(v as object) }, { a: 'b' }) },
  { name: 'E41 offsetSize 7, table truncated', bytes: withTrailerByte(bplist([dict1(1, 2), ascii('a'), ascii('b')]), 6, 7), expect: unreadable(/do not add up|lies outside/) },
  { name: 'E41 refSize 0', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { refSize: 0 }), expect: unreadable(/offset or reference size out of range/) },
  ...[0n, 2n ** 31n - 1n, 2n ** 63n, 2n ** 64n - 1n].map((n) => ({ name: `E41 numObjects ${n}`, bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { numObjects: n }), expect: unreadable(/trailer claims \d+ objects|do not add up/) })),
  // CoreFoundation's widths: a reference names every object (256 objects need 2 bytes), an offset reaches the table.
  { name: 'E41 255 objects, 1-byte references', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b'), ...Array.from({ length: 252 }, () => ascii(''))]), expect: (v) => assert.deepEqual({ ...(v as object) }, { a: 'b' }) },
  { name: 'E41 256 objects, 1-byte references', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b'), ...Array.from({ length: 253 }, () => ascii(''))]), expect: unreadable(/reference size too small for the object count/) },
  { name: 'E41 1-byte offsets, table at 255', bytes: bplist([dict1(1, 2), ascii('a'), data(239)], { offsetSize: 1 }), expect: (v) => assert.equal((v as Record<string, Uint8Array>).a!.length, 239) },
  { name: 'E41 1-byte offsets, table at 256', bytes: bplist([dict1(1, 2), ascii('a'), data(240)], { offsetSize: 1 }), expect: unreadable(/offset size too small to reach the offset table/) },
  { name: 'E41 topObject beyond the objects', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { top: 3n }), expect: unreadable(/top object is not among the objects/) },
  { name: 'E41 trailing junk', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { trailing: Buffer.from('junk') }), expect: unreadable(/do not add up to the file's length/) },
  { name: 'E42 an offset below 8', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { offsets: [8, 4, 13] }), expect: unreadable(/object 1 lies outside the object area/) },
  { name: 'E42 an offset at the offset table itself', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { offsets: [8, 11, 15] }), expect: unreadable(/object 2 lies outside the object area/) },
  { name: 'E42 an offset inside the offset table', bytes: bplist([dict1(1, 2), ascii('a'), ascii('b')], { offsets: [8, 11, 17] }), expect: unreadable(/object 2 lies outside the object area/) },
  { name: 'E42 a reference to a missing object', bytes: bplist([dict1(1, 9), ascii('a'), ascii('b')]), expect: unreadable(/reference 9 to a missing object/) },
  ...[2n ** 31n, 2n ** 36n, 2n ** 63n, 2n ** 64n - 1n].flatMap((n) => [0xa0, 0xd0, 0x40, 0x50, 0x60].map((marker) => ({ name: `E43 size ${n} of marker 0x${marker.toString(16)}`, bytes: bplist([sized(marker, n)]), expect: unreadable(/runs past the object area|too large/) }))),
  { name: 'E43 a string that runs into the offset table', bytes: bplist([Buffer.from([0x55, 0x61])]), expect: unreadable(/runs past the object area/) },
  { name: 'E44 an array containing itself', bytes: bplist([Buffer.from([0xa1, 0x00])]), expect: unreadable(/reference cycle at object 0/) },
  { name: 'E44 dict A -> B -> A', bytes: bplist([dict1(2, 1), dict1(2, 0), ascii('k')]), expect: unreadable(/reference cycle/) },
  { name: 'E45 DAG bomb of 2^24 paths', bytes: dagBomb(), expect: unreadable(/expands to more than 1000000 values/) },
  { name: 'E46 512 levels (511 arrays around a dictionary) are read', bytes: nested(511), expect: (v) => assert.ok(Array.isArray(v)) },
  { name: 'E46 513 levels are refused', bytes: nested(512), expect: unreadable(/nesting deeper than 512 levels/) },
  { name: 'E46 nesting 100,000 deep', bytes: nested(100_000), expect: unreadable(/nesting deeper than 512 levels/) },
  { name: 'E47 a __proto__ key is data', bytes: bplist([dict1(1, 2), ascii('__proto__'), dict1(3, 4), ascii('polluted'), ascii('yes')]), expect: (v) => { assert.equal(Object.getPrototypeOf(v), null); assert.deepEqual(Object.keys(v as object), ['__proto__']); } },
  { name: 'E47 a non-string key', bytes: bplist([dict1(1, 2), Buffer.from([0x10, 0x05]), ascii('v')]), expect: unreadable(/a dictionary key that is not a string/) },
  { name: 'E48 ASCII with 0xFF', bytes: bplist([Buffer.from([0x51, 0xff])]), expect: unreadable(/a byte above 0x7F in an ASCII string/) },
  { name: 'E48 UTF-16 lone surrogate', bytes: bplist([Buffer.from([0x62, 0x00, 0x61, 0xd8, 0x00])]), expect: unreadable(/lone surrogate/) },
  { name: 'E49 a 16-byte integer within range reads exactly', bytes: bplist([Buffer.concat([Buffer.from([0x14]), Buffer.alloc(8), Buffer.from('ffffffffffffffff', 'hex')])]), expect: (v) => assert.equal(v, 2n ** 64n - 1n) },
  { name: 'E49 a 16-byte integer out of range', bytes: bplist([Buffer.concat([Buffer.from([0x14, 0x01]), Buffer.alloc(15)])]), expect: unreadable(/integer outside the 64-bit range/) },
  { name: 'E49 an integer of 32 bytes', bytes: bplist([Buffer.concat([Buffer.from([0x15]), Buffer.alloc(32)])]), expect: unreadable(/integer wider than 16 bytes/) },
  ...[[0x22, 4, Number.NaN], [0x23, 8, Number.POSITIVE_INFINITY], [0x23, 8, Number.NaN]].map(([marker, size, x]) => {
    const b = Buffer.alloc(1 + size!); b[0] = marker!; if (size === 4) b.writeFloatBE(x!, 1); else b.writeDoubleBE(x!, 1);
    return { name: `E49 a ${size}-byte real ${x}`, bytes: bplist([b]), expect: unreadable(/a real that is not a finite number/) };
  }),
  { name: 'E49 a date marker 0x32', bytes: bplist([Buffer.concat([Buffer.from([0x32]), Buffer.alloc(8)])]), expect: unreadable(/a date is 8 bytes/) },
  { name: 'E49 a real of 1 byte', bytes: bplist([Buffer.from([0x20, 0x01])]), expect: unreadable(/a real is 4 or 8 bytes/) },
  ...[Number.NaN, Number.POSITIVE_INFINITY, 1e300].map((x) => { const b = Buffer.alloc(9); b[0] = 0x33; b.writeDoubleBE(x, 1); return { name: `E49 date ${x}`, bytes: bplist([b]), expect: unreadable(/a date out of range/) }; }),
  { name: 'E49 UID', bytes: bplist([Buffer.from([0x83, 0xff, 0xff, 0xff, 0xff])]), expect: unreadable(/unsupported object marker 0x83/) },
  ...[0x01, 0x07, 0x0a, 0x0e, 0x70, 0x7f, 0x90, 0xb0, 0xc0, 0xe0, 0xf0].map((m) => ({ name: `E50 unknown marker 0x${m.toString(16)}`, bytes: bplist([Buffer.from([m, 0, 0])]), expect: unreadable(new RegExp(`unsupported object marker 0x${m.toString(16).padStart(2, '0')}`)) })),
  // F. XML
  { name: 'F51 billion laughs', bytes: Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE plist [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<plist><string>&b;</string></plist>'), expect: unreadable(/entity declarations are not supported/) },
  { name: 'F51 SYSTEM entity', bytes: Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<plist><string>&x;</string></plist>'), expect: unreadable(/entity declarations are not supported/) },
  { name: 'F51 the Apple DOCTYPE is fine', bytes: Buffer.from(XML('<dict><key>a</key><string>b</string></dict>')), expect: (v) => assert.deepEqual({ ...(v as object) }, { a: 'b' }) },
  { name: 'F52 a key split by a comment', bytes: Buffer.from(XML('<dict><key>__pro<!---->to__</key><string>x</string></dict>')), expect: (v) => { assert.deepEqual(Object.keys(v as object), ['__proto__']); assert.equal(Object.getPrototypeOf(v), null); } },
  { name: 'F52 a key with a character reference', bytes: Buffer.from(XML('<dict><key>a&#x62;</key><string>x</string></dict>')), expect: (v) => assert.deepEqual(Object.keys(v as object), ['ab']) },
  ...['&#0;', '&#x1;', '&#31;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#xFFFFFFFFF;', `&${'a'.repeat(300)};`].map((ref) => ({ name: `F53 ${ref.slice(0, 16)}`, bytes: Buffer.from(XML(`<string>${ref}</string>`)), expect: unreadable(/is not an XML character|malformed entity reference|undefined entity/) })),
  { name: 'F54 invalid UTF-8', bytes: Buffer.concat([Buffer.from(UTF8_PREFIX), Buffer.from([0xc3, 0x28]), Buffer.from('</string></plist>')]), expect: unreadable(new RegExp(`invalid UTF-8 at byte offset ${Buffer.byteLength(UTF8_PREFIX)}$`)) },
  { name: 'F54 ISO-8859-1 declared', bytes: Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><plist><string>x</string></plist>'), expect: unreadable(/unsupported encoding "ISO-8859-1"/) },
  { name: 'F54 UTF-16 with a BOM reads correctly', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(XML('<dict><key>Café</key><string>東京</string></dict>').replace('UTF-8', 'UTF-16'), 'utf16le')]), expect: (v) => assert.deepEqual({ ...(v as object) }, { Café: '東京' }) },
  ...[['two root elements', '<plist><string>a</string></plist><plist/>'], ['two values', XML('<string>a</string><string>b</string>')], ['a value with no key', XML('<dict><string>a</string></dict>')], ['a key inside an array', XML('<array><key>a</key></array>')], ['an unknown tag', XML('<foo/>')], ['a mismatched close tag', XML('<dict></array>')]]
    .map(([name, xml]) => ({ name: `F55 ${name}`, bytes: Buffer.from(xml!), expect: unreadable(/./) })),
  { name: 'F55 a key with no value', bytes: Buffer.from(XML('<dict><key>a</key></dict>')), expect: unreadable(/^key "a" has no value$/) },
  ...[['a tag with a space before its name', XML('< string>a</string>')], ['a close tag that also self-closes', XML('<dict><key>a</key><string>b</string></dict/>')], ['a < inside a tag', XML('<string a="<">b</string>')], ['a slash inside a tag name', XML('<str/ing>b</string>')], ['an empty tag', XML('<>')]]
    .map(([name, xml]) => ({ name: `F55 ${name}`, bytes: Buffer.from(xml!), expect: unreadable(/malformed tag/) })),
  { name: 'F55 processing instructions where an element may stand are passed over, as CoreFoundation and expat do', bytes: Buffer.from(`<?xml version="1.0"?>\n<?xml-stylesheet href="p.xsl"?>\n${XML('<dict><?editor x?><key>a</key><?editor y?><string>b</string></dict><?end?>').replace(/^<\?xml[^>]*>\n/, '')}`), expect: (v) => assert.deepEqual({ ...(v as object) }, { a: 'b' }) },
  { name: 'F55 a file that is not XML (JSON holding &&) is refused for that, not for its first \'&\'', bytes: Buffer.from('{\n  "build": "tsc && node bake.mjs"\n}\n'), expect: unreadable(/^the document does not start with <plist>$/) },
  { name: 'F55 an unterminated processing instruction', bytes: Buffer.from(XML('<dict><?editor</dict>')), expect: unreadable(/unterminated processing instruction/) },
  { name: 'F55 attributes and <dict /> with a space, as plistlib reads them', bytes: Buffer.from(XML('<dict id="x"><key>a</key><dict /><key>b</key><true/></dict>')), expect: (v) => assert.deepEqual(JSON.parse(JSON.stringify(v)), { a: {}, b: true }) },
  ...([['+7', 7], ['007', 7], ['-0', 0], [' 42 ', 42], ['999999999999999', 999999999999999], ['9007199254740993', 9007199254740993n], ['-9007199254740993', -9007199254740993n]] as const)
    .map(([text, want]) => ({ name: `F56 <integer>${text}</integer> reads ${want}`, bytes: Buffer.from(XML(`<integer>${text}</integer>`)), expect: (v: unknown) => assert.ok(Object.is(v, want), `${String(v)}`) })),
  { name: 'F56 <integer>12abc', bytes: Buffer.from(XML('<integer>12abc</integer>')), expect: unreadable(/is not an integer/) },
  { name: 'F56 <integer>0x10 reads 16, as plistlib does', bytes: Buffer.from(XML('<integer>0x10</integer>')), expect: (v) => assert.equal(v, 16) },
  { name: 'F56 <integer>9223372036854775808 reads exactly', bytes: Buffer.from(XML('<integer>9223372036854775808</integer>')), expect: (v) => assert.equal(v, 2n ** 63n) },
  { name: 'F56 <integer>-9223372036854775809', bytes: Buffer.from(XML('<integer>-9223372036854775809</integer>')), expect: unreadable(/outside the 64-bit range/) },
  { name: 'F56 <real>1e400, beyond a double', bytes: Buffer.from(XML('<real>-1e400</real>')), expect: unreadable(/real out of range/) },
  { name: 'F56 <real>1e-400 reads 0, as plistlib reads it', bytes: Buffer.from(XML('<real>1e-400</real>')), expect: (v) => assert.equal((v as Real).value, 0) },
  { name: 'F56 <data> of 5 base64 characters, one more than whole bytes hold', bytes: Buffer.from(XML('<data>AAAAA</data>')), expect: unreadable(/<data> is not base64/) },
  { name: 'F55 a <dict> never closed', bytes: Buffer.from('<plist><dict><key>a</key><true/>'), expect: unreadable(/^<dict> is not closed$/) },
  { name: 'F56 <real>nan', bytes: Buffer.from(XML('<real>nan</real>')), expect: unreadable(/is not a finite number/) },
  { name: 'F56 <date>2024-13-40', bytes: Buffer.from(XML('<date>2024-13-40T00:00:00Z</date>')), expect: unreadable(/is not a date/) },
  ...([['0076-09-26T17:06:41Z', -59_745_538_399_000], ['0000-01-01T00:00:00Z', -62_167_219_200_000], ['9999-12-31T23:59:59Z', 253_402_300_799_000]] as const)
    .map(([text, ms]) => ({ name: `F56 <date>${text} is that year, not 19xx`, bytes: Buffer.from(XML(`<date>${text}</date>`)), expect: (v: unknown) => assert.equal((v as Date).getTime(), ms) })),
  { name: 'F56 <date>0100-02-29, a day that year did not have', bytes: Buffer.from(XML('<date>0100-02-29T00:00:00Z</date>')), expect: unreadable(/is not a date/) },
  { name: 'F56 <data>@@@@', bytes: Buffer.from(XML('<data>@@@@</data>')), expect: unreadable(/is not base64/) },
  { name: 'F57 <array> nested 512 deep is read', bytes: Buffer.from(XML(`${'<array>'.repeat(512)}${'</array>'.repeat(512)}`)), expect: (v) => assert.ok(Array.isArray(v)) },
  { name: 'F57 <array> nested 513 deep is refused', bytes: Buffer.from(XML(`${'<array>'.repeat(513)}${'</array>'.repeat(513)}`)), expect: unreadable(/nesting deeper than 512 levels/) },
  { name: 'F57 <array> nested 5,000 deep', bytes: Buffer.from(XML(`${'<array>'.repeat(5000)}${'</array>'.repeat(5000)}`)), expect: unreadable(/nesting deeper than 512 levels/) },
];

for (const c of cases) {
  test(`${c.name}`, { timeout: 10_000 }, () => {
    let value: unknown;
    let error: Error | undefined;
    try {
      value = readPlist(c.bytes).value;
    } catch (e) {
      error = e as Error;
    }
    if (c.expect instanceof RegExp) {
      assert.ok(error, `expected an error, read ${String(value)}`);
      assert.equal(error.constructor.name, 'PlistError', error.stack);
      assert.match(error.message, c.expect);
      assert.ok('offset' in error && ((error as { offset?: number }).offset !== undefined || (error as { line?: number }).line !== undefined), 'located');
    } else {
      assert.equal(error, undefined, error?.message);
      c.expect(value);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
}

test('a key given twice: the first value is kept, as CoreFoundation keeps it, and the repeat is listed with its place', () => {
  const binary = readPlist(bplist([Buffer.from([0xd2, 1, 1, 2, 3]), ascii('a'), ascii('b'), ascii('c')]));
  assert.deepEqual({ ...(binary.value as object) }, { a: 'b' });
  assert.deepEqual(binary.duplicateKeys, [{ path: ['a'] }]);
  const xml = readPlist(Buffer.from(XML('<dict>\n<key>a</key><string>b</string>\n<key>a</key><string>c</string>\n</dict>')));
  assert.deepEqual({ ...(xml.value as object) }, { a: 'b' });
  assert.deepEqual(xml.duplicateKeys, [{ path: ['a'], line: 6 }]);
});

test('every case as a file on disk: one audit/unreadable finding each where it is malformed, and the run goes on', { timeout: 60_000 }, () => {
  const dir = tempDir();
  const malformed: string[] = [];
  cases.forEach((c, i) => {
    const host = `HOST-${String(i).padStart(3, '0')}`;
    const file = join(dir, host, 'Users', 'u', 'Library/Preferences/Microsoft/com.microsoft.Messenger.plist');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, c.bytes);
    // A value that is not a dictionary cannot be a preference file: the audit reports it as unreadable too.
    const readable = !(c.expect instanceof RegExp) && isDict(readPlist(c.bytes).value as PlistValue);
    if (!readable) malformed.push(host);
  });
  const big = join(dir, 'HOST-BIG/Users/u/Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist');
  mkdirSync(join(big, '..'), { recursive: true });
  writeFileSync(big, '');
  truncateSync(big, 200 * 1024 * 1024); // a sparse 200 MB file: refused by its size, never read
  const run = mdmgen(['audit', join(ROOT, 'examples/fleet.yaml'), dir, '--format', 'json']);
  assert.equal(run.code, 1, run.stderr);
  const { summary, findings } = JSON.parse(run.stdout) as { summary: { files: number }; findings: { host: string; code: string; message: string }[] };
  assert.equal(summary.files, cases.length + 1, 'every file audited: the run went on');
  const unreadable = findings.filter((f) => f.code === 'audit/unreadable');
  assert.deepEqual(unreadable.map((f) => f.host).sort(), [...malformed, 'HOST-BIG'].sort());
  assert.match(unreadable.find((f) => f.host === 'HOST-BIG')!.message, /209715200 bytes is more than/);
});
