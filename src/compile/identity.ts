import * as crypto from 'node:crypto';

/** mdmgen's UUIDv5 namespace (RFC 4122 §4.3), fixed forever: changing it would change every PayloadUUID. */
const NAMESPACE = Buffer.from('6d646d67-656e-5000-8000-706179726f6c'.replace(/-/g, ''), 'hex');

/** The namespace, then the name as UTF-8: one buffer, hashed in one call, reused by every UUID. */
let scratch = Buffer.alloc(0);

/**
 * A name-based UUID (version 5). PayloadUUIDs come from the identifier and the content, so a rebuild of the
 * same policy gives the same UUIDs, and macOS updates an installed profile in place.
 */
export function uuidV5(name: string): string {
  if (scratch.length < NAMESPACE.length + 3 * name.length) {
    scratch = Buffer.alloc(Math.max(2 * scratch.length, NAMESPACE.length + 3 * name.length));
    NAMESPACE.copy(scratch);
  }
  const length = NAMESPACE.length + scratch.write(name, NAMESPACE.length);
  const hex = oneShot ? oneShot('sha1', scratch.subarray(0, length), 'hex') : crypto.createHash('sha1').update(scratch.subarray(0, length)).digest('hex');
  // Version 5 in the high nibble of byte 6, the RFC 4122 variant (10xx) in the high bits of byte 8.
  const variant = '89ab'[parseInt(hex[16]!, 16) & 3];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

export function sha256(bytes: Uint8Array | string): string {
  return oneShot ? oneShot('sha256', bytes, 'hex') : crypto.createHash('sha256').update(bytes).digest('hex');
}

// crypto.hash (Node 20.12) hashes small inputs in one call, without a Hash object: a third faster for the
// several hashes each of 100,000 profiles costs.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string }).hash;
