import { X509Certificate } from 'node:crypto';

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

// verify reads the same signer and chain from each profile of a build, 100,000 of them, and parsing one
// into an X509Certificate costs about 100 µs: a certificate seen is kept by its bytes (a few hundred at most).
const seen = new Map<string, Certificate>();

function fromDerBytes(der: Buffer, what: string): Certificate {
  const key = der.toString('latin1');
  const known = seen.get(key);
  if (known) return known;
  const certificate = parseDer(der, what);
  if (seen.size >= 256) seen.clear();
  seen.set(key, certificate);
  return certificate;
}

function parseDer(der: Buffer, what: string): Certificate {
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

/**
 * A CA's key signing profiles (a quick `openssl req -x509` certificate is a CA): Macs accept it, but the key
 * that can issue certificates then sits wherever profiles are built (hostile-inputs guide: "basicConstraints
 * cA=false on the leaf").
 */
export const CA_SIGNER = (name: string) => `${name} is a CA certificate (basicConstraints CA:TRUE); sign with a certificate it issues, and keep the CA's key off the machines that build profiles`;

export function subjectCommonName(cert: Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.x509.subject)?.[1] ?? cert.x509.subject.split('\n')[0] ?? 'certificate';
}

export function isSelfSigned(cert: Certificate): boolean {
  return cert.x509.subject === cert.x509.issuer && issuedBy(cert, cert);
}

// A signature check costs about 40 µs, and verify checks the same links for each profile of a build.
const links = new WeakMap<Certificate, WeakMap<Certificate, boolean>>();

/** Whether `issuer` names and signed `cert`. */
export function issuedBy(cert: Certificate, issuer: Certificate): boolean {
  const known = links.get(cert) ?? links.set(cert, new WeakMap()).get(cert)!;
  let issued = known.get(issuer);
  if (issued === undefined) known.set(issuer, (issued = cert.x509.checkIssued(issuer.x509) && cert.x509.verify(issuer.x509.publicKey)));
  return issued;
}

/** Days from `now` until the certificate's notAfter (negative once expired). */
export function daysLeft(cert: Certificate, now: Date): number {
  return (new Date(cert.x509.validTo).getTime() - now.getTime()) / 86_400_000;
}

/** Total length of the DER element at the start of `bytes` (header and content), or -1 if malformed. */
function derElementLength(bytes: Uint8Array): number {
  if (bytes.length < 2) return -1;
  const first = bytes[1]!;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || bytes.length < 2 + count) return -1;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
  return 2 + count + length;
}
