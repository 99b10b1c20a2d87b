import { firstInvalidXmlChar } from '../source/utf8.js';
import { isDict, Real, sortedKeys, type PlistValue } from './value.js';

// Hand-written rather than plist.build(): plist 5.0.0 writes 1.0 as <integer>, silently drops null values,
// orders integer-like keys first and echoes a whole value (a password, say) in its error for a control
// character (shared/guides/hostile-inputs.md). This writer keeps the catalogue's exact types and writes
// Apple's own layout (tabs, sorted keys), so a file matches what `plutil -convert xml1` prints.

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

export function writeXmlPlist(root: PlistValue): Buffer {
  const out: string[] = [HEADER];
  write(root, '', out, '$');
  out.push('</plist>\n');
  return Buffer.from(out.join(''), 'utf8');
}

function write(value: PlistValue, indent: string, out: string[], where: string): void {
  if (typeof value === 'string') out.push(`${indent}<string>${escape(value, where)}</string>\n`);
  else if (typeof value === 'boolean') out.push(`${indent}<${value}/>\n`);
  else if (typeof value === 'number') out.push(`${indent}<integer>${integer(value, where)}</integer>\n`);
  else if (typeof value === 'bigint') out.push(`${indent}<integer>${value}</integer>\n`);
  else if (value instanceof Real) out.push(`${indent}<real>${real(value.value, where)}</real>\n`);
  else if (value instanceof Date) out.push(`${indent}<date>${date(value, where)}</date>\n`);
  else if (value instanceof Uint8Array) out.push(`${indent}<data>${Buffer.from(value).toString('base64')}</data>\n`);
  else if (Array.isArray(value)) {
    if (value.length === 0) return void out.push(`${indent}<array/>\n`);
    out.push(`${indent}<array>\n`);
    value.forEach((item: PlistValue, i: number) => write(item, indent + '\t', out, `${where}[${i}]`));
    out.push(`${indent}</array>\n`);
  } else if (isDict(value)) {
    const keys = sortedKeys(value);
    if (keys.length === 0) return void out.push(`${indent}<dict/>\n`);
    out.push(`${indent}<dict>\n`);
    for (const key of keys) {
      out.push(`${indent}\t<key>${escape(key, where)}</key>\n`);
      write(value[key]!, indent + '\t', out, `${where}.${key}`);
    }
    out.push(`${indent}</dict>\n`);
  } else {
    throw new TypeError(`unsupported plist value at ${where}`);
  }
}

function escape(text: string, where: string): string {
  const bad = firstInvalidXmlChar(text);
  // Name the place, never the value: the string may be a secret.
  if (bad >= 0) throw new TypeError(`character at index ${bad} of the string at ${where} cannot be written to XML`);
  return /[&<>]/.test(text) ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : text;
}

export function integer(value: number, where: string): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`integer at ${where} is not a safe integer`);
  return String(value);
}

function real(value: number, where: string): string {
  if (!Number.isFinite(value)) throw new TypeError(`real at ${where} is not finite`);
  return String(value);
}

function date(value: Date, where: string): string {
  const time = value.getTime();
  if (!Number.isFinite(time) || time % 1000 !== 0) throw new TypeError(`date at ${where} is invalid or has fractions of a second`);
  return value.toISOString().replace('.000Z', 'Z');
}
