import { createHash } from 'node:crypto';

/**
 * Two names are one to a Mac when APFS (and HFS+) treat them as the same file name: compared without case
 * and without Unicode normalisation. toUpperCase() applies full case mapping (ß -> SS), so Straße and
 * STRASSE fold to one key, as do NFC é and NFD é, and Bob and bob.
 */
export function macNameKey(name: string): string {
  // Most names are plain ASCII, for which this is toLowerCase(): an audit asks once a pulled plist.
  return PLAIN.test(name) ? name.toLowerCase() : name.normalize('NFD').toUpperCase().toLowerCase().normalize('NFD');
}

const PLAIN = /^[\x20-\x7e]*$/;

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Windows device names: the install point and archives may be opened on a PC.
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

/**
 * A file name and identifier component for any user name. A name that is already safe is kept; any other
 * (../x, a/b, NUL, con, trailing dots, 300 bytes) becomes a readable slug plus a hash of the real name, so
 * two different names never share a file.
 */
export function safeName(name: string): string {
  if (SAFE.test(name) && !RESERVED.test(name) && !name.endsWith('.')) return name;
  const slug = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${slug || 'user'}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}
