import type { Certificate } from './certificates.js';
import { bytesOf, children, fromDer, oidOf } from './der.js';

/**
 * The keyUsage bits, or undefined when the certificate has no keyUsage extension. Node's X509Certificate
 * exposes only extended key usage, so the extension is read from the DER.
 */
export function keyUsage(cert: Certificate): { digitalSignature: boolean; keyCertSign: boolean } | undefined {
  const tbs = children(fromDer(cert.der))[0];
  const extensions = children(tbs).find((n) => n.tagClass === 0x80 && n.type === 3);
  for (const extension of children(children(extensions)[0])) {
    const parts = children(extension);
    if (oidOf(parts[0]) !== '2.5.29.15') continue;
    const bits = bytesOf(fromDer(bytesOf(parts.at(-1))));
    const first = bits[1] ?? 0;
    return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
  }
  return undefined;
}
