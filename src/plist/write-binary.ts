import { isDict, Real, sortedKeys, type PlistValue } from './value.js';
import { integer } from './write-xml.js';

// Hand-written rather than plist.buildBinary(): plist 5.0.0 writes integers of 2^32 and above as reals and
// converts bigints through Number, losing precision. This writer follows CoreFoundation's layout:
// 1/2/4-byte unsigned or 8-byte signed integers (16 bytes above 2^63-1), strings uniqued, keys sorted.

const EPOCH_2001_MS = Date.UTC(2001, 0, 1);

type Entry = { bytes: Buffer } | { marker: 0xa | 0xd; refs: number[] };

export function writeBinaryPlist(root: PlistValue): Buffer {
  // Pass 1: number every object (strings and scalars once each, as CoreFoundation does).
  const entries: Entry[] = [];
  const unique = new Map<string, number>();
  const scalar = (bytes: () => Buffer, key?: string): number => {
    const existing = key === undefined ? undefined : unique.get(key);
    if (existing !== undefined) return existing;
    entries.push({ bytes: bytes() });
    if (key !== undefined) unique.set(key, entries.length - 1);
    return entries.length - 1;
  };
  const container = (marker: 0xa | 0xd, children: () => number[]): number => {
    const entry: Entry = { marker, refs: [] };
    const index = entries.push(entry) - 1;
    entry.refs = children();
    return index;
  };
  const flatten = (value: PlistValue, where: string): number => {
    if (typeof value === 'boolean') return scalar(() => Buffer.of(value ? 0x09 : 0x08), `b${value}`);
    if (typeof value === 'number') return scalar(() => encodeInt(BigInt(integer(value, where))), `i${value}`);
    if (typeof value === 'bigint') return scalar(() => encodeInt(value), `i${value}`);
    if (typeof value === 'string') {
      // Binary plists store UTF-16, which cannot hold a lone surrogate. Name the place, never the value.
      if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) throw new TypeError(`string at ${where} has a lone surrogate`);
      return scalar(() => encodeString(value), `s${value}`);
    }
    if (value instanceof Real) {
      if (!Number.isFinite(value.value)) throw new TypeError(`real at ${where} is not finite`);
      return scalar(() => withDouble(0x23, value.value), `r${value.value}`);
    }
    if (value instanceof Date) {
      if (!Number.isFinite(value.getTime())) throw new TypeError(`date at ${where} is invalid`);
      return scalar(() => withDouble(0x33, (value.getTime() - EPOCH_2001_MS) / 1000));
    }
    if (value instanceof Uint8Array) return scalar(() => Buffer.concat([sizeMarker(0x4, value.length), value]));
    if (Array.isArray(value)) return container(0xa, () => value.map((item: PlistValue, i: number) => flatten(item, `${where}[${i}]`)));
    if (isDict(value)) {
      const keys = sortedKeys(value);
      return container(0xd, () => [...keys.map((key) => flatten(key, where)), ...keys.map((key) => flatten(value[key]!, `${where}.${key}`))]);
    }
    throw new TypeError(`unsupported plist value at ${where}`);
  };
  flatten(root, '$');

  // Pass 2: encode, now that the reference width is known. It holds the object count, as CoreFoundation
  // writes it and its reader requires: 256 objects take 2-byte references, though 255 is the highest.
  const refSize = bytesFor(entries.length);
  const objects = entries.map((entry) => {
    if ('bytes' in entry) return entry.bytes;
    const refs = Buffer.alloc(entry.refs.length * refSize);
    entry.refs.forEach((ref, i) => refs.writeUIntBE(ref, i * refSize, refSize));
    const count = entry.marker === 0xd ? entry.refs.length / 2 : entry.refs.length;
    return Buffer.concat([sizeMarker(entry.marker, count), refs]);
  });

  const offsets: number[] = [];
  let position = 8;
  for (const object of objects) {
    offsets.push(position);
    position += object.length;
  }
  const offsetSize = bytesFor(position);
  const table = Buffer.alloc(offsets.length * offsetSize);
  offsets.forEach((offset, i) => table.writeUIntBE(offset, i * offsetSize, offsetSize));
  const trailer = Buffer.alloc(32);
  trailer.writeUInt8(offsetSize, 6);
  trailer.writeUInt8(refSize, 7);
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(position), 24);
  return Buffer.concat([Buffer.from('bplist00', 'latin1'), ...objects, table, trailer]);
}

function encodeInt(value: bigint): Buffer {
  if (value >= 0n && value <= 0xffn) return Buffer.of(0x10, Number(value));
  if (value >= 0n && value <= 0xffffn) return withUInt(0x11, 2, value);
  if (value >= 0n && value <= 0xffffffffn) return withUInt(0x12, 4, value);
  if (value >= -(2n ** 63n) && value < 2n ** 63n) {
    const out = Buffer.alloc(9);
    out[0] = 0x13;
    out.writeBigInt64BE(value, 1);
    return out;
  }
  const out = Buffer.alloc(17);
  out[0] = 0x14;
  out.writeBigUInt64BE(value, 9);
  return out;
}

function withUInt(marker: number, size: number, value: bigint): Buffer {
  const out = Buffer.alloc(1 + size);
  out[0] = marker;
  out.writeUIntBE(Number(value), 1, size);
  return out;
}

function withDouble(marker: number, value: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = marker;
  out.writeDoubleBE(value, 1);
  return out;
}

function encodeString(text: string): Buffer {
  if (/^[\x00-\x7f]*$/.test(text)) return Buffer.concat([sizeMarker(0x5, text.length), Buffer.from(text, 'latin1')]);
  const utf16 = Buffer.from(text, 'utf16le').swap16();
  return Buffer.concat([sizeMarker(0x6, text.length), utf16]);
}

function sizeMarker(type: number, count: number): Buffer {
  if (count < 15) return Buffer.of((type << 4) | count);
  return Buffer.concat([Buffer.of((type << 4) | 0x0f), encodeInt(BigInt(count))]);
}

function bytesFor(max: number): number {
  return max <= 0xff ? 1 : max <= 0xffff ? 2 : max <= 0xffffffff ? 4 : 8;
}
