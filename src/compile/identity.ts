import * as crypto from 'node:crypto';

/** mdmgen's UUIDv5 namespace (RFC 4122 §4.3), fixed forever: changing it would change every PayloadUUID. */
const NAMESPACE = Buffer.from('6d646d67-656e-5000-8000-706179726f6c'.replace(/-/g, ''), 'hex');

/**
 * A name-based UUID (version 5). PayloadUUIDs come from the identifier and the content, so a rebuild of the
 * same policy gives the same UUIDs, and macOS updates an installed profile in place.
 */
export function uuidV5(name: string | Uint8Array): string {
  const hash = crypto.createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sha256(bytes: Uint8Array | string): string {
  return digest('sha256', bytes).toString('hex');
}

// crypto.hash (Node 20.12) hashes small inputs in one call, without a Hash object: a third faster for the
// several hashes each of 100,000 profiles costs.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'buffer') => Buffer }).hash;

function digest(algorithm: 'sha1' | 'sha256', data: Uint8Array | string): Buffer {
  return oneShot ? oneShot(algorithm, data, 'buffer') : crypto.createHash(algorithm).update(data).digest();
}
