import { MAX_DEPTH, PlistError, type ReadResult } from './read-xml.js';
import { Real, type PlistValue } from './value.js';

// Hand-written rather than bplist-parser or plist.parseBinary(): neither checks offsets, references,
// sizes or cycles (shared/guides/hostile-inputs.md, E). These are CoreFoundation's and libplist's checks:
// the exact length of header, objects, offset table and trailer; every offset and reference in range;
// sizes checked before anything is allocated; cycles refused; shared objects parsed once, with a budget on
// how far they expand; integers exact.

const EPOCH_2001_MS = Date.UTC(2001, 0, 1);
/** The most values a file may expand to once shared references are followed: bounds DAG bombs. */
const MAX_EXPANDED = 1_000_000;

export function readBinaryPlist(bytes: Uint8Array): ReadResult {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8 + 1 + 32) throw new PlistError(`${b.length} bytes is too short for a binary plist`, { offset: 0 });
  const version = b.toString('latin1', 0, 8);
  if (version !== 'bplist00') throw new PlistError(version.startsWith('bplist') ? `unsupported binary plist version "${version.slice(6)}"` : 'not a binary plist', { offset: 0 });

  const t = b.length - 32;
  const offsetSize = b[t + 6]!;
  const refSize = b[t + 7]!;
  const numObjects = b.readBigUInt64BE(t + 8);
  const topObject = b.readBigUInt64BE(t + 16);
  const tableOffset = b.readBigUInt64BE(t + 24);
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8) fail('offset or reference size out of range', t + 6);
  if (numObjects < 1n || numObjects > BigInt(b.length)) fail(`trailer claims ${numObjects} objects`, t + 8);
  if (topObject >= numObjects) fail('the top object is not among the objects', t + 16);
  if (tableOffset < 9n || tableOffset >= BigInt(t)) fail('offset table outside the file', t + 24);
  const count = Number(numObjects);
  const table = Number(tableOffset);
  if (table + count * offsetSize !== t) fail('the objects, offset table and trailer do not add up to the file\'s length', t + 24);
  // As CoreFoundation and swift-foundation check: a reference must be able to name every object, and an
  // offset must be able to reach the offset table (so 256 objects need 2-byte references).
  if (refSize < 8 && count >= 2 ** (8 * refSize)) fail('reference size too small for the object count', t + 7);
  if (offsetSize < 8 && table >= 2 ** (8 * offsetSize)) fail('offset size too small to reach the offset table', t + 6);

  const offsets = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const offset = readUInt(b, table + i * offsetSize, offsetSize);
    if (offset < 8 || offset >= table) fail(`object ${i} lies outside the object area`, table + i * offsetSize);
    offsets[i] = offset;
  }
  const reader = new BinaryReader(b, offsets, table, refSize);
  return { value: reader.object(Number(topObject), 1), format: 'binary', keyLines: new Map(), duplicateKeys: reader.duplicateKeys };
}

/**
 * The objects of a checked trailer and offset table, each decoded once. A class rather than closures: a
 * preference file is parsed in a few microseconds, and closures made for every object were most of what
 * parsing one allocated.
 */
class BinaryReader {
  readonly duplicateKeys: ReadResult['duplicateKeys'] = [];
  private readonly parsed: (PlistValue | undefined)[];
  /** How many values each parsed container expands to, shared references followed. */
  private readonly expanded: number[];
  private readonly onPath: boolean[];
  /** The keys and indexes leading to the object being decoded, for duplicate keys. */
  private readonly path: string[] = [];
  private readonly b: Buffer;
  private readonly offsets: number[];
  private readonly table: number;
  private readonly refSize: number;

  constructor(b: Buffer, offsets: number[], table: number, refSize: number) {
    this.b = b;
    this.offsets = offsets;
    this.table = table;
    this.refSize = refSize;
    this.parsed = new Array<PlistValue | undefined>(offsets.length);
    this.expanded = new Array<number>(offsets.length);
    this.onPath = new Array<boolean>(offsets.length);
  }

  object(index: number, depth: number): PlistValue {
    const done = this.parsed[index];
    if (done !== undefined) return done;
    if (this.onPath[index]) fail(`reference cycle at object ${index}`, this.offsets[index]!);
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`, this.offsets[index]!);
    this.onPath[index] = true;
    const value = this.decode(index, depth);
    this.onPath[index] = false;
    this.parsed[index] = value;
    return value;
  }

  private need(at: number, start: number, length: number): void {
    if (length < 0 || start + length > this.table) fail('object runs past the object area', at);
  }

  private decode(index: number, depth: number): PlistValue {
    const b = this.b;
    const at = this.offsets[index]!;
    const marker = b[at]!;
    const type = marker >> 4;
    const info = marker & 0x0f;
    // The size of a data, string, array or dictionary: in the marker, or in an integer after it.
    let size = info;
    let start = at + 1;
    const sized = type === 0x4 || type === 0x5 || type === 0x6 || type === 0xa || type === 0xd;
    if (sized && info === 0x0f) {
      const intMarker = b[at + 1];
      if (intMarker === undefined || intMarker >> 4 !== 1 || (intMarker & 0x0f) > 3) fail('malformed size', at);
      const width = 1 << (intMarker! & 0x0f);
      this.need(at, at + 2, width);
      size = readUInt(b, at + 2, width);
      start = at + 2 + width;
    }
    switch (type) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        return fail(`unsupported object marker 0x${marker.toString(16).padStart(2, '0')}`, at);
      case 0x1: {
        if (info > 4) fail('integer wider than 16 bytes', at);
        const width = 1 << info;
        this.need(at, at + 1, width);
        if (width < 8) return b.readUIntBE(at + 1, width);
        let value: bigint;
        if (width === 8) value = b.readBigInt64BE(at + 1);
        else {
          value = (b.readBigInt64BE(at + 1) << 64n) | b.readBigUInt64BE(at + 9);
          if (value < -(2n ** 63n) || value > 2n ** 64n - 1n) fail('integer outside the 64-bit range', at);
        }
        return Number.isSafeInteger(Number(value)) ? Number(value) : value;
      }
      case 0x2: {
        if (info !== 2 && info !== 3) fail('a real is 4 or 8 bytes', at);
        this.need(at, at + 1, 1 << info);
        const value = info === 2 ? b.readFloatBE(at + 1) : b.readDoubleBE(at + 1);
        if (!Number.isFinite(value)) fail('a real that is not a finite number', at);
        return new Real(value);
      }
      case 0x3: {
        if (marker !== 0x33) fail('a date is 8 bytes', at);
        this.need(at, at + 1, 8);
        const seconds = b.readDoubleBE(at + 1);
        const date = new Date(EPOCH_2001_MS + seconds * 1000);
        if (!Number.isFinite(seconds) || Number.isNaN(date.getTime())) fail('a date out of range', at);
        return date;
      }
      case 0x4:
        this.need(at, start, size);
        return new Uint8Array(b.subarray(start, start + size));
      case 0x5: {
        this.need(at, start, size);
        for (let i = start; i < start + size; i++) if (b[i]! > 0x7f) fail('a byte above 0x7F in an ASCII string', i);
        return b.toString('latin1', start, start + size);
      }
      case 0x6: {
        this.need(at, start, size * 2);
        const text = Buffer.from(b.subarray(start, start + size * 2)).swap16().toString('utf16le');
        if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) fail('invalid UTF-16 (a lone surrogate)', start);
        return text;
      }
      case 0xa:
      case 0xd:
        return this.container(index, depth, type === 0xd, size, start);
    }
    return fail(`unsupported object marker 0x${marker.toString(16).padStart(2, '0')}`, at);
  }

  /** An array, or a dictionary (its keys' references, then its values'), every reference checked first. */
  private container(index: number, depth: number, isDict: boolean, size: number, start: number): PlistValue {
    const at = this.offsets[index]!;
    const refCount = isDict ? size * 2 : size;
    this.need(at, start, refCount * this.refSize);
    for (let i = 0; i < refCount; i++) this.ref(start, i);
    let total = 1;
    if (!isDict) {
      const items = new Array<PlistValue>(size);
      for (let i = 0; i < size; i++) {
        const ref = this.ref(start, i);
        this.path.push(String(i));
        items[i] = this.object(ref, depth + 1);
        this.path.pop();
        total = this.grow(total, ref, at);
      }
      this.expanded[index] = total;
      return items;
    }
    const dict = Object.create(null) as Record<string, PlistValue>;
    for (let i = 0; i < size; i++) {
      const key = this.object(this.ref(start, i), depth + 1);
      if (typeof key !== 'string') fail('a dictionary key that is not a string', at);
      const ref = this.ref(start, size + i);
      this.path.push(key as string);
      const value = this.object(ref, depth + 1);
      this.path.pop();
      total = this.grow(total, ref, at);
      if (Object.hasOwn(dict, key as string)) this.duplicateKeys.push({ path: [...this.path, key as string] });
      else dict[key as string] = value;
    }
    this.expanded[index] = total;
    return dict;
  }

  /** Adds what a child expands to, within the budget. */
  private grow(total: number, ref: number, at: number): number {
    total += this.expanded[ref] ?? 1;
    if (total > MAX_EXPANDED) fail(`expands to more than ${MAX_EXPANDED} values`, at);
    return total;
  }

  private ref(start: number, i: number): number {
    const ref = readUInt(this.b, start + i * this.refSize, this.refSize);
    if (ref >= this.offsets.length) fail(`reference ${ref} to a missing object`, start + i * this.refSize);
    return ref;
  }
}

function fail(message: string, offset: number): never {
  throw new PlistError(message, { offset });
}

/** A big-endian unsigned integer of 1 to 8 bytes (Buffer reads at most 6 at once). */
function readUInt(b: Buffer, at: number, width: number): number {
  // References and offsets are one or two bytes in a preference file: read without readUIntBE's dispatch.
  if (width === 1 && at < b.length) return b[at]!;
  if (width === 2 && at + 1 < b.length) return (b[at]! << 8) | b[at + 1]!;
  if (width <= 6) return b.readUIntBE(at, width);
  let value = 0n;
  for (let i = 0; i < width; i++) value = (value << 8n) | BigInt(b[at + i]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new PlistError('a size or offset too large for this file', { offset: at });
  return Number(value);
}
