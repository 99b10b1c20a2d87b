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

// Strings a plist can hold: no C0 controls but tab, LF and CR; no lone surrogates; no U+FFFE/F.
// XML turns CR LF into LF, so the XML round trip leaves CR out.
const text = (cr: boolean) => fc.string({ unit: fc.oneof(fc.constantFrom('\t', '\n', ...(cr ? ['\r'] : [])), fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCharCode(c)), fc.constantFrom('é', '東', '😀', '&', '<', '>', ']]>')), maxLength: 20 });
const integer = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)));
const real = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new Real(Object.is(d, -0) ? 0 : d));
const date = fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }).map((s) => new Date(s * 1000));
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
    }), { numRuns: 3000 });
  });
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
