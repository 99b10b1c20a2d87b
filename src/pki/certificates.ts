import { X509Certificate } from 'node:crypto';
import { bytesOf, children, derElementLength, fromDer, oidOf } from './der.js';

export interface Certificate {
  x509: X509Certificate;
  der: Buffer;
  /** Lower-case hex SHA-256 of the DER bytes. */
  sha256: string;
}

export class CertificateError extends Error {}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Every certificate of a PEM file (one or a bundle, text between blocks, CRLF or LF) or a DER file, in
 * order. node-forge's certificateFromPem reads only the first block; a block that is not a plain
 * certificate, or a DER file with bytes after the certificate, is refused with its index, never skipped.
 */
export function readCertificates(bytes: Buffer): Certificate[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const certs: Certificate[] = [];
    let index = 0;
    for (const [, label, body] of text.matchAll(PEM_BLOCK)) {
      index++;
      if (label !== 'CERTIFICATE') {
        throw new CertificateError(`block ${index} is "${label}", not "CERTIFICATE"${label === 'TRUSTED CERTIFICATE' ? ' (convert it with openssl x509 -in FILE -out FILE.pem)' : ''}`);
      }
      const der = Buffer.from(body!.replace(/\s+/g, ''), 'base64');
      certs.push(fromDerBytes(der, `certificate ${index}`));
    }
    if (certs.length === 0) throw new CertificateError('no complete PEM certificate block');
    return certs;
  }
  return [fromDerBytes(bytes, 'the certificate')];
}

function fromDerBytes(der: Buffer, what: string): Certificate {
  const length = derElementLength(der);
  if (der[0] !== 0x30 || length < 0) throw new CertificateError(`${what} is not DER or PEM`);
  if (length < der.length) throw new CertificateError(`${what} is followed by ${der.length - length} unexpected bytes`);
  if (length > der.length) throw new CertificateError(`${what} is truncated`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    throw new CertificateError(`${what} cannot be parsed as an X.509 certificate`);
  }
  return { x509, der, sha256: x509.fingerprint256.replace(/:/g, '').toLowerCase() };
}

export function subjectCommonName(cert: Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.x509.subject)?.[1] ?? cert.x509.subject.split('\n')[0] ?? 'certificate';
}

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

export function isSelfSigned(cert: Certificate): boolean {
  return cert.x509.subject === cert.x509.issuer && cert.x509.verify(cert.x509.publicKey);
}

/** Days from `now` until the certificate's notAfter (negative once expired). */
export function daysLeft(cert: Certificate, now: Date): number {
  return (new Date(cert.x509.validTo).getTime() - now.getTime()) / 86_400_000;
}
