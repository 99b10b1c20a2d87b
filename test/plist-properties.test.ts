// Property tests of the plist writers and reader (fast-check): exact round trips of random typed values,
// and random mutations of valid files that must only ever be read or refused with a PlistError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PlistError, readPlist } from '../src/plist/read.js';
import { decodeText } from '../src/source/utf8.js';
import { Real, sortedKeys, type PlistValue } from '../src/plist/value.js';
import { writeBinaryPlist } from '../src/plist/write-binary.js';
import { writeXmlPlist } from '../src/plist/write-xml.js';
import type { Tagged } from './helpers/helpers.js';

// Strings a plist can hold: no C0 controls but tab, LF and CR; no lone surrogates; no U+FFFE/F.
// XML turns CR LF into LF, so the XML round trip leaves CR out.
const text = (cr: boolean) => fc.string({ unit: fc.oneof(fc.constantFrom('\t', '\n', ...(cr ? ['\r'] : [])), fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCharCode(c)), fc.constantFrom('é', '東', '😀', '&', '<', '>', ']]>')), maxLength: 20 });
const integer = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)));
const real = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new Real(Object.is(d, -0) ? 0 : d));
// Every second of the years 0000 to 9999, all an XML <date> can spell.
const date = fc.oneof(fc.integer({ min: -62_167_219_200, max: 253_402_300_799 }), fc.integer({ min: -2_000_000_000, max: 4_000_000_000 })).map((s) => new Date(s * 1000));
const data = fc.uint8Array({ maxLength: 40 });

function value(cr: boolean) {
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, text(cr), fc.boolean(), integer, real, date, data, tie('array'), tie('dict')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    dict: fc.dictionary(text(cr), tie('value'), { maxKeys: 4 }),
  })).value as fc.Arbitrary<PlistValue>;
}

/** The same value as the reader gives it back: integers exact, dicts as plain objects. */
function normalise(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof Real) return { real: v.value };
  if (v instanceof Date) return { date: v.getTime() };
  if (v instanceof Uint8Array) return { data: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

for (const [name, write, cr] of [['XML', writeXmlPlist, false], ['binary', writeBinaryPlist, true]] as const) {
  test(`${name}: random typed values round-trip exactly (integers to 2^64-1, reals apart from integers, dates, data, Unicode)`, () => {
    fc.assert(fc.property(value(cr), (v) => {
      assert.deepEqual(normalise(readPlist(write(v)).value), normalise(v));
    }), { numRuns: 400 });
  });

  test(`${name}: random mutations of valid files are read or refused with a PlistError, never a crash or a polluted prototype`, { timeout: 120_000 }, () => {
    fc.assert(fc.property(value(cr), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (v, edits, cut) => {
      const bytes = Buffer.from(write({ root: v, list: [v, v] }));
      for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
      const mutated = cut % 3 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
      const start = process.hrtime.bigint();
      try {
        readPlist(mutated);
      } catch (error) {
        if (!(error instanceof PlistError)) throw error;
      }
      assert.ok(Number(process.hrtime.bigint() - start) < 2e9, 'bounded time');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) });
  });
}

// CPython's plistlib, an independent reader, judges the same mutated files. Where both read one, the values
// must be the same. Where only one does, the difference must be a known one. mdmgen reads as CoreFoundation
// does, which refuses text between elements, unknown tags and entities, two values in <plist>, a DOCTYPE cut
// short by a '>' in a literal, object offsets outside the object area (even of objects nothing refers to),
// references too narrow for the object count, offsets too narrow to reach the offset table, integers beyond
// 64 bits and keys that are not strings, and reads a broken prolog (the XML declaration, the
// DOCTYPE, <plist>'s attributes), ']]>' in text, base64 without its padding, and a document that starts with
// neither '<?xml' nor '<plist' (a declaration made a processing instruction), which plistlib refuses.
// CoreFoundation also reads NaN, an infinite <real>, <data> with what is not base64 skipped and the UIDs of
// keyed archives; mdmgen calls them malformed, as the hostile-inputs catalogue allows (F56). Python's dates
// hold the years 1 to 9999 only.
const ONLY_MDMGEN_REFUSES = [
  /^text where a value was expected$/, /^a dictionary holds <key> then a value, in pairs$/, /^the document does not start with <plist>$/,
  /^object \d+ lies outside the object area$/, /^object runs past the object area$/, /^the objects, offset table and trailer do not add up/,
  /^offset table outside the file$/, /^malformed size$/, /^integer outside the 64-bit range$/, /^integer wider than 16 bytes$/,
  /^a dictionary key that is not a string$/, /^<data> is not base64$/, /^unsupported object marker 0x(0f|8[0-9a-f])$/, /is not a plist value$/,
  /^malformed tag$/, /^a <plist> holds exactly one value$/, /^offset or reference size out of range$/, /^undefined entity /,
  /^malformed entity reference$/, /^real out of range$/, /^a real that is not a finite number$/, /^unsupported encoding /,
  /^reference size too small for the object count$/, /^offset size too small to reach the offset table$/,
];

test('mutated files judged by CPython\'s plistlib: the same values where both read them, and only known differences where one refuses', { timeout: 120_000 }, async () => {
  const { readWithPlistlib, tempDir } = await import('./helpers/helpers.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const seed = Math.floor(Math.random() * 2 ** 31);
  const xmlByte = fc.constantFrom(...Buffer.from('<>/ &;=?!"#x09-\t\n'), 0x80, 0xff);
  const mutation = fc.tuple(fc.boolean(), value(false), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), xmlByte), { minLength: 1, maxLength: 3 }));
  const dir = tempDir();
  const files = fc.sample(mutation, { seed, numRuns: 3000 }).map(([xml, v, edits], i) => {
    const original = Buffer.from((xml ? writeXmlPlist : writeBinaryPlist)({ root: v, list: [v, 4] }));
    const bytes = Buffer.from(original);
    for (const [at, byte, xmlChar] of edits) bytes[at % bytes.length] = xml ? xmlChar : byte;
    const file = join(dir, `${i}.${xml ? 'xml' : 'bin'}`);
    writeFileSync(file, bytes);
    return { file, bytes, original, xml };
  });
  const judged = readWithPlistlib(files.map((f) => f.file));
  const where = (file: string, bytes: Buffer) => `seed ${seed}, ${file}: ${bytes.toString('base64')}`;
  const compare = (ours: PlistValue, theirs: Tagged, xml: boolean, at: string) => {
    const [mine, its] = [tagged(ours, xml), comparable(theirs)];
    if (!same(mine, its)) assert.deepEqual(mine, its, at);
  };
  let both = 0;
  const refusedByExpat: { file: string; bytes: Buffer; original: Buffer; ours: PlistValue }[] = [];
  for (const { file, bytes, original, xml } of files) {
    const theirs = judged[file]!;
    let read;
    try {
      read = readPlist(bytes);
    } catch (error) {
      if (!(error instanceof PlistError)) throw error;
      if (!('error' in theirs)) assert.ok(ONLY_MDMGEN_REFUSES.some((known) => known.test(error.message)), `only mdmgen refuses: ${error.message}; ${where(file, bytes)}`);
      continue;
    }
    if ('error' in theirs) {
      if (theirs.error.startsWith('ExpatError')) refusedByExpat.push({ file, bytes, original, ours: read.value });
      else assert.ok(knownRefusal(theirs.error, read.value, bytes), `only plistlib refuses: ${theirs.error}; ${where(file, bytes)}`);
      continue;
    }
    // A key given twice: mdmgen keeps the first value, as CoreFoundation's reader does, and plistlib the last.
    if (read.duplicateKeys.length > 0) continue;
    both++;
    compare(read.value, theirs, xml, where(file, bytes));
  }
  assert.ok(both > 300, `${both} files read by both`);
  // What expat refused is judged again with the prolog as written (the edits replace bytes, so the body stays
  // in place): plistlib must then read the same value, or refuse it for a known reason.
  const prologEnd = (bytes: Buffer) => bytes.indexOf('>', bytes.indexOf('<plist')) + 1;
  const again = refusedByExpat.map((r) => ({ ...r, file: `${r.file}.prolog`, bytes: Buffer.concat([r.original.subarray(0, prologEnd(r.original)), r.bytes.subarray(prologEnd(r.original))]) }));
  for (const { file, bytes } of again) writeFileSync(file, bytes);
  const rejudged = readWithPlistlib(again.map((r) => r.file));
  for (const { file, bytes, ours } of again) {
    const theirs = rejudged[file]!;
    if ('error' in theirs) assert.ok(knownRefusal(theirs.error, ours, bytes), `only plistlib refuses: ${theirs.error}; ${where(file, bytes)}`);
    else compare(ours, theirs, true, where(file, bytes));
  }
});

/** Whether plistlib's refusal of a file mdmgen reads is a known difference (past the prolog). */
function knownRefusal(error: string, ours: PlistValue, bytes: Buffer): boolean {
  return /^Error: (Incorrect padding|Invalid base64)/.test(error)
    || (/^(InvalidFileException|ValueError: year 0 )/.test(error) && beyondPython(ours))
    || (/^ExpatError: not well-formed \(invalid token\)/.test(error) && bytes.includes(']]>'))
    || (/^InvalidFileException/.test(error) && !/^(<\?xml|<plist)/.test(bytes.toString('latin1', 0, 6)));
}

/** Whether a value holds a date outside the years 1 to 9999, which Python's datetime cannot hold. */
function beyondPython(value: PlistValue): boolean {
  if (value instanceof Date) return value.getUTCFullYear() < 1 || value.getUTCFullYear() > 9999;
  if (Array.isArray(value)) return value.some(beyondPython);
  return typeof value === 'object' && !(value instanceof Real || value instanceof Uint8Array) && Object.values(value).some(beyondPython);
}

/** plistlib's tagged value, its dates in seconds (it prints them to the second). */
function comparable(value: Tagged): unknown {
  switch (value.type) {
    case 'dict': return Object.fromEntries(Object.entries(value.value).map(([k, v]) => [k, comparable(v)]));
    case 'array': return value.value.map(comparable);
    case 'date': return ['date', Date.parse(value.value) / 1000];
    default: return [value.type, value.value];
  }
}

/** Equal, but for dates a second apart: plistlib floors a time to the second, and a JS Date keeps milliseconds, cut toward 1970. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && a[0] === 'date' && Array.isArray(b) && b[0] === 'date') return Math.abs((a[1] as number) - (b[1] as number)) <= 1;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

/** mdmgen's value tagged as plistlib's: XML line ends as an XML parser turns them (CoreFoundation keeps a CR). */
function tagged(value: PlistValue, xml: boolean): unknown {
  const text = (s: string) => (xml ? s.replace(/\r\n?/g, '\n') : s);
  if (typeof value === 'string') return ['string', text(value)];
  if (typeof value === 'boolean') return ['bool', value];
  if (typeof value === 'number' || typeof value === 'bigint') return ['integer', String(value)];
  if (value instanceof Real) return ['real', value.value];
  if (value instanceof Date) return ['date', value.getTime() / 1000];
  if (value instanceof Uint8Array) return ['data', Buffer.from(value).toString('base64')];
  if (Array.isArray(value)) return value.map((v) => tagged(v, xml));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), tagged(v, xml)]));
}

test('fleet.yaml: random mutations of the example give diagnostics with a place, never an exception', { timeout: 120_000 }, async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { checkFleet } = await import('../src/fleet/check.js');
  const { planBuild } = await import('../src/compile/plan.js');
  const { loadCatalog } = await import('../src/catalog/catalog.js');
  const { ROOT } = await import('./helpers/helpers.js');
  const original = readFileSync(join(ROOT, 'examples', 'fleet.yaml'));
  const catalog = loadCatalog();
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.constantFrom(...Buffer.from(' :-{}[]&*!|>#"\'\n\t0aZ.\u00e9'))), { minLength: 1, maxLength: 4 }), async (edits) => {
    const bytes = Buffer.from(original);
    for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
    const { fleet, diagnostics } = checkFleet('fleet.yaml', bytes, catalog);
    for (const d of diagnostics) {
      assert.ok(d.code && d.message, JSON.stringify(d));
      if (d.severity === 'error' && !d.code.startsWith('yaml/invalid-utf8')) assert.ok(d.line !== undefined || d.offset !== undefined || d.code.startsWith('yaml/'), JSON.stringify(d));
    }
    // A mutation that still checks clean must still plan a build (no directory or program: those need files).
    if (fleet && !fleet.directory && !fleet.installPoint) await planBuild({ fleet, catalog, fleetBytes: bytes, plistFormat: 'xml', version: 'test' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }), { numRuns: 1500 });
});

test('property: dictionary keys are written in UTF-16 code unit order, as sort() orders them, for few keys and many', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('a', 'B', 'é', '😀', '\uffff', '')), { maxLength: 40 }), (keys) => {
    const dict = Object.fromEntries(keys.map((k) => [k, 1])) as Record<string, PlistValue>;
    assert.deepEqual(sortedKeys(dict), Object.keys(dict).sort());
  }), { numRuns: 500 });
});

test('property: text is taken as UTF-8 exactly when a strict decoder takes it, and refused at the first bad byte', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const decodes = (bytes: Uint8Array) => {
    try {
      return strict.decode(bytes);
    } catch {
      return undefined;
    }
  };
  const piece = fc.oneof(fc.string({ unit: 'binary' }).map((s) => [...Buffer.from(s)]), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }));
  fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
    const bytes = Uint8Array.from(pieces.flat());
    if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) return; // UTF-16 by its BOM
    const read = decodeText(bytes);
    const expected = decodes(bytes);
    if ('text' in read) return assert.equal(read.text, expected);
    assert.equal(expected, undefined);
    assert.notEqual(decodes(bytes.subarray(0, read.invalidAt)), undefined, 'what comes before is valid');
  }), { numRuns: 5000 });
});
