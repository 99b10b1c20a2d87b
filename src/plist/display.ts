import { isDict, Real, type PlistValue } from './value.js';

/** A plist value as plain data for JSON or YAML: dates as ISO 8601, data as base64, integers exact. */
export function toDisplay(value: PlistValue): unknown {
  if (value instanceof Real) return value.value;
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toDisplay);
  if (isDict(value)) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = toDisplay(v);
    return out;
  }
  return value;
}
