import { isUtf8 } from 'node:buffer';

/** Byte offset of the first invalid UTF-8 sequence, or -1. TextDecoder's fatal mode says only that one exists. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * A file as text: UTF-8 (with or without a BOM), or UTF-16 with a BOM, as Windows writes "Unicode" text
 * (Notepad, `csvde -u`, `Export-Csv -Encoding Unicode`) and as YAML 1.2 requires a reader to take. Bytes
 * that are not valid text come back as where and why.
 */
export function decodeText(bytes: Uint8Array): { text: string } | { invalidAt: number; problem: string } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe)) {
    if (b.length % 2 === 1) return { invalidAt: b.length - 1, problem: 'UTF-16 text with an odd number of bytes' };
    const body = Buffer.from(b.subarray(2));
    const text = (b[0] === 0xfe ? body.swap16() : body).toString('utf16le');
    const lone = firstLoneSurrogate(text);
    return lone < 0 ? { text } : { invalidAt: 2 + 2 * lone, problem: 'invalid UTF-16 (a lone surrogate)' };
  }
  // Node's validator (simdutf) says whether, in a tenth of the time; this walk, only when not, says where.
  const invalidAt = isUtf8(b) ? -1 : firstInvalidUtf8(b);
  if (invalidAt >= 0) return { invalidAt, problem: 'invalid UTF-8' };
  return { text: b.toString('utf8', b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0) };
}

function firstLoneSurrogate(text: string): number {
  if (!/[\ud800-\udfff]/.test(text)) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

// Anything that might be invalid: C0 controls but tab/LF/CR, any surrogate, U+FFFE/F. Surrogate pairs
// (emoji) match too, so a match only means "look closer".
const SUSPECT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;

/** Index of the first character XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F), or -1. */
export function firstInvalidXmlChar(text: string): number {
  if (!SUSPECT.test(text)) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++;
    } else if ((c >= 0xdc00 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) return i;
  }
  return -1;
}
