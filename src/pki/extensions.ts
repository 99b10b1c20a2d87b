import { CertificateError, subjectCommonName, type Certificate } from './certificates.js';
import { bytesOf, children, fromDer, oidOf } from './der.js';

/**
 * Certificate extensions Node's X509Certificate does not expose (it gives only extended key usage), read
 * from the DER. OpenSSL accepts a certificate whose extensions' contents are malformed (it decodes them
 * only when asked), so a bad one is a CertificateError here, never forge's own error.
 */
function extensionValue(cert: Certificate, id: string): Buffer | undefined {
  try {
    const tbs = children(fromDer(cert.der))[0];
    const extensions = children(tbs).find((n) => n.tagClass === 0x80 && n.type === 3);
    const extension = children(children(extensions)[0]).find((e) => oidOf(children(e)[0]) === id);
    return extension && bytesOf(fromDer(bytesOf(children(extension).at(-1))));
  } catch {
    throw new CertificateError(`the certificate "${subjectCommonName(cert)}" has a malformed extension ${id}`);
  }
}

/**
 * The keyUsage bits (RFC 5280 4.2.1.3), undefined when the certificate has no keyUsage extension, or why
 * it cannot be read: a reason to distrust the certificate, not to stop.
 */
export function keyUsage(cert: Certificate): { digitalSignature: boolean; keyCertSign: boolean } | undefined | string {
  let bits: Buffer | undefined;
  try {
    bits = extensionValue(cert, '2.5.29.15');
  } catch (error) {
    if (error instanceof CertificateError) return error.message;
    throw error;
  }
  if (!bits) return undefined;
  const first = bits[1] ?? 0;
  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
}

/** The subjectKeyIdentifier (RFC 5280 4.2.1.2), by which a CMS signer may be named instead of issuer and serial. */
export function subjectKeyIdentifier(cert: Certificate): Buffer | undefined {
  return extensionValue(cert, '2.5.29.14');
}

