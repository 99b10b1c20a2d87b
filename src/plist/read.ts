import { readBinaryPlist } from './read-binary.js';
import { PlistError, readXmlPlist, type ReadResult } from './read-xml.js';

export { PlistError, type ReadResult };

/** The most bytes mdmgen reads as one plist. Preference files are kilobytes; profiles rarely a megabyte. */
export const MAX_PLIST_BYTES = 64 * 1024 * 1024;

/** Reads an untrusted plist, XML or binary. Throws PlistError with a byte offset or a line. */
export function readPlist(bytes: Uint8Array): ReadResult {
  if (bytes.length > MAX_PLIST_BYTES) throw new PlistError(`${bytes.length} bytes is more than the ${MAX_PLIST_BYTES} a plist may have`, { offset: 0 });
  return startsWith(bytes, BPLIST) ? readBinaryPlist(bytes) : readXmlPlist(bytes);
}

const BPLIST = [...Buffer.from('bplist')];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}
