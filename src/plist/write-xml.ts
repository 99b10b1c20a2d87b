import { firstInvalidXmlChar } from '../source/utf8.js';
import { isDict, isFrozenPlist, Real, sortedKeys, type PlistValue } from './value.js';

// Hand-written rather than plist.build(): plist 5.0.0 writes 1.0 as <integer>, silently drops null values,
// orders integer-like keys first and echoes a whole value (a password, say) in its error for a control
// character (shared/guides/hostile-inputs.md). This writer keeps the catalogue's exact types and writes
// Apple's own layout (tabs, sorted keys), so a file matches what `plutil -convert xml1` prints.

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

export function writeXmlPlist(root: PlistValue): Buffer {
  return Buffer.from(xmlPlistText(root), 'utf8');
}

/** The document as text, for a caller that hashes it (a string hashes as UTF-8, without a Buffer of it). */
export function xmlPlistText(root: PlistValue): string {
  return HEADER + write(root, '', []) + '</plist>\n';
}

type Path = (string | number)[];

/** Where a value is, as $.key[0]: built only for an error message, never for every value written. */
function where(path: Path): string {
  return `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}

// Strings are built by concatenation: V8 keeps the pieces as a rope and flattens it once, in Buffer.from,
// which for the many small documents of a per-user build beats collecting parts in an array and joining.
function write(value: PlistValue, indent: string, path: Path): string {
  switch (typeof value) {
    case 'string': return `${indent}<string>${escape(value, path)}</string>\n`;
    case 'boolean': return value ? `${indent}<true/>\n` : `${indent}<false/>\n`;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`integer at ${where(path)} is not a safe integer`);
      return `${indent}<integer>${value}</integer>\n`;
    case 'bigint': return `${indent}<integer>${value}</integer>\n`;
  }
  if (value instanceof Real) return `${indent}<real>${real(value.value, path)}</real>\n`;
  if (value instanceof Date) return `${indent}<date>${date(value, path)}</date>\n`;
  if (value instanceof Uint8Array) return `${indent}<data>${Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64')}</data>\n`;
  if (isFrozenPlist(value)) {
    let byIndent = fragments.get(value);
    if (!byIndent) fragments.set(value, (byIndent = new Map()));
    let text = byIndent.get(indent);
    if (text === undefined) byIndent.set(indent, (text = container(value, indent, path)));
    return text;
  }
  return container(value, indent, path);
}

/** Text of frozen (shared) containers by indent: see freezePlist. */
const fragments = new WeakMap<object, Map<string, string>>();

function container(value: PlistValue, indent: string, path: Path): string {
  const inner = `${indent}\t`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}<array/>\n`;
    let out = `${indent}<array>\n`;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out += write(value[i] as PlistValue, inner, path);
      path.pop();
    }
    return `${out}${indent}</array>\n`;
  }
  if (isDict(value)) {
    const keys = sortedKeys(value);
    if (keys.length === 0) return `${indent}<dict/>\n`;
    let out = `${indent}<dict>\n`;
    for (const key of keys) {
      path.push(key);
      out += `${inner}<key>${escape(key, path)}</key>\n${write(value[key]!, inner, path)}`;
      path.pop();
    }
    return `${out}${indent}</dict>\n`;
  }
  throw new TypeError(`unsupported plist value at ${where(path)}`);
}

// What XML cannot carry (see firstInvalidXmlChar) or must escape: most strings match neither and are kept as they are.
const NEEDS_CARE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff&<>]/;

function escape(text: string, path: Path): string {
  const escaped = escapeXmlText(text);
  // Name the place, never the value: the string may be a secret.
  if (escaped === undefined) throw new TypeError(`character at index ${firstInvalidXmlChar(text)} of the string at ${where(path)} cannot be written to XML`);
  return escaped;
}

/** A string as the writer puts it between tags, or undefined when XML cannot carry one of its characters. */
export function escapeXmlText(text: string): string | undefined {
  if (!NEEDS_CARE.test(text)) return text;
  if (firstInvalidXmlChar(text) >= 0) return undefined;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function integer(value: number, where: string): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`integer at ${where} is not a safe integer`);
  return String(value);
}

function real(value: number, path: Path): string {
  if (!Number.isFinite(value)) throw new TypeError(`real at ${where(path)} is not finite`);
  return String(value);
}

function date(value: Date, path: Path): string {
  const time = value.getTime();
  if (!Number.isFinite(time) || time % 1000 !== 0) throw new TypeError(`date at ${where(path)} is invalid or has fractions of a second`);
  // A plist's <date> has four digits of year; toISOString gives ±YYYYYY beyond them.
  if (value.getUTCFullYear() < 0 || value.getUTCFullYear() > 9999) throw new TypeError(`date at ${where(path)} is outside the years 0000 to 9999`);
  return value.toISOString().replace('.000Z', 'Z');
}
