import { createHash, sign, verify } from 'node:crypto';
import { keyUsage, subjectKeyIdentifier } from './extensions.js';
import { daysLeft, isSelfSigned, issuedBy, readCertificates, subjectCommonName, type Certificate } from './certificates.js';
import { asn1, bytesOf, children, fromDer, integer, oid, oidOf, seq, setOf, toDer, type Asn1 } from './der.js';
import type { SigningIdentity } from './identity.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', [OID.sha256]: 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};

const nullParam = () => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');

/**
 * CMS SignedData (RFC 5652) with the content attached, DER, SHA-256, signed attributes contentType and
 * messageDigest (signingTime only when given), and the signer and chain certificates embedded: what
 * `openssl cms -sign -binary -nodetach -outform DER` writes and macOS verifies. RSA (PKCS#1 v1.5)
 * signatures are deterministic, so the same content and identity give identical bytes; ECDSA in Node 20's
 * OpenSSL 3.0 is randomised, so an EC signature differs per build.
 *
 * Everything but the content, its digest and the signature is the same for every profile, so it is
 * encoded once; each profile then costs one hash, one signature and a few concatenations.
 */
export function signer(identity: SigningIdentity, signingTime?: Date): (content: Uint8Array) => Buffer {
  const { issuer, serial } = issuerAndSerial(identity.certificate);
  const version = toDer(integer(1));
  const sha256 = toDer(seq([oid(OID.sha256)]));
  const signatureAlgorithm = toDer(identity.key.asymmetricKeyType === 'ec' ? seq([oid(OID.ecdsaWithSha256)]) : seq([oid(OID.rsaEncryption), nullParam()]));
  const sid = toDer(seq([issuer, serial]));
  const certificates = tlv(0xa0, ...sortDer([identity.certificate, ...identity.chain].map((c) => c.der)));
  const contentTypeAttribute = toDer(seq([oid(OID.contentType), setOf([oid(OID.data)])]));
  const timeAttribute = signingTime ? [toDer(seq([oid(OID.signingTime), setOf([utcTime(signingTime)])]))] : [];
  const messageDigestOid = toDer(oid(OID.messageDigest));
  const dataOid = toDer(oid(OID.data));
  const signedDataOid = toDer(oid(OID.signedData));
  return (content) => {
    const digest = createHash('sha256').update(content).digest();
    const attributes = sortDer([contentTypeAttribute, tlv(0x30, messageDigestOid, tlv(0x31, tlv(0x04, digest))), ...timeAttribute]);
    // The signature covers the attributes encoded as a SET (0x31); they are stored as [0] IMPLICIT (0xA0).
    const signature = sign('sha256', tlv(0x31, ...attributes), identity.key);
    const signerInfo = tlv(0x30, version, sid, sha256, tlv(0xa0, ...attributes), signatureAlgorithm, tlv(0x04, signature));
    const signedData = tlv(0x30, version, tlv(0x31, sha256), tlv(0x30, dataOid, tlv(0xa0, tlv(0x04, Buffer.from(content)))), certificates, tlv(0x31, signerInfo));
    return tlv(0x30, signedDataOid, tlv(0xa0, signedData));
  };
}

export function signCms(content: Uint8Array, identity: SigningIdentity, signingTime?: Date): Buffer {
  return signer(identity, signingTime)(content);
}

/** A DER element: tag, definite length, content. */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const header = length < 0x80 ? [tag, length] : [tag, 0x80 | bytesIn(length), ...Array.from({ length: bytesIn(length) }, (_, i) => (length >> (8 * (bytesIn(length) - 1 - i))) & 0xff)];
  return Buffer.concat([Buffer.from(header), ...parts]);
}

function bytesIn(n: number): number {
  return n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
}

/** DER orders the elements of a SET OF by their encodings (X.690 11.6). */
function sortDer(elements: Buffer[]): Buffer[] {
  return [...elements].sort(Buffer.compare);
}

function issuerAndSerial(cert: Certificate): { issuer: Asn1; serial: Asn1 } {
  const fields = children(children(fromDer(cert.der))[0]);
  const offset = fields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // [0] version is optional
  return { serial: fields[offset]!, issuer: fields[offset + 2]! };
}

function utcTime(date: Date): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));
}

export class CmsError extends Error {}

export interface SignedProfile {
  content: Buffer;
  certificates: Certificate[];
  digestAlgorithm: string;
  signer?: Certificate;
  /** Whether the signature and the content digest check out. */
  signatureValid: boolean;
  problems: string[];
}

/** Reads a signed profile and checks its signature against its own content: no trust decision yet. */
export function readSignedProfile(bytes: Uint8Array): SignedProfile {
  let root: Asn1;
  try {
    root = fromDer(bytes);
  } catch (error) {
    throw new CmsError(`not DER-encoded CMS (${(error as Error).message.split('.')[0]})`);
  }
  const [type, wrapped] = children(root);
  if (oidOf(type) !== OID.signedData) throw new CmsError('not a CMS SignedData structure');
  const fields = children(children(wrapped)[0]);
  const encapsulated = fields.find((f) => f.type === asn1.Type.SEQUENCE && f.tagClass === asn1.Class.UNIVERSAL && oidOf(children(f)[0]) !== undefined);
  const problems: string[] = [];
  if (oidOf(children(encapsulated)[0]) !== OID.data) problems.push('the signed content is not of type data');
  const contentNode = children(children(encapsulated)[1])[0];
  if (!contentNode) throw new CmsError('the signature is detached: no profile inside');
  // Content may be split into several OCTET STRINGs (BER constructed form); join them.
  const content = contentNode.constructed ? Buffer.concat(children(contentNode).map(bytesOf)) : bytesOf(contentNode);

  const certNode = fields.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 0);
  const certificates = children(certNode).map((c) => readCertificates(toDer(c))[0]!);
  const signerInfos = children(fields.at(-1));
  if (signerInfos.length !== 1) throw new CmsError(`${signerInfos.length} signers; one is expected`);
  const info = children(signerInfos[0]);
  const sid = info[1];
  const digestAlgorithm = DIGESTS[oidOf(children(info[2])[0]) ?? ''];
  if (!digestAlgorithm) throw new CmsError('unsupported digest algorithm');
  // After version, sid and digestAlgorithm (a sid by subjectKeyIdentifier is a [0] too).
  const attrsNode = info.slice(3).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 0);
  const signature = bytesOf(info.at(-1));

  // RFC 5652 5.3: the signer is named by issuer and serial number, or by [0] subjectKeyIdentifier (openssl cms -keyid).
  const signer = sid?.tagClass === asn1.Class.CONTEXT_SPECIFIC && sid.type === 0
    ? certificates.find((c) => subjectKeyIdentifier(c)?.equals(bytesOf(sid)))
    : certificates.find((c) => {
      const { issuer, serial } = issuerAndSerial(c);
      const [sidIssuer, sidSerial] = children(sid).map(toDer);
      return sidIssuer !== undefined && sidSerial !== undefined && toDer(issuer).equals(sidIssuer) && toDer(serial).equals(sidSerial);
    });
  if (!signer) return { content, certificates, digestAlgorithm, signatureValid: false, problems: [...problems, 'the signer\'s certificate is not in the file'] };

  let signed: Buffer = content;
  if (attrsNode) {
    const attrs = new Map(children(attrsNode).map((a) => [oidOf(children(a)[0]), children(children(a)[1])[0]]));
    if (oidOf(attrs.get(OID.contentType)) !== OID.data) problems.push('the contentType attribute is not data');
    const digest = createHash(digestAlgorithm).update(content).digest();
    if (!bytesOf(attrs.get(OID.messageDigest)).equals(digest)) problems.push('the content digest does not match: the profile was changed after signing');
    // The signature covers the attributes encoded as a SET (tag 0x31), not as the [0] they are stored in.
    signed = toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, children(attrsNode)));
  }
  let ok = false;
  try {
    ok = verify(digestAlgorithm, signed, signer.x509.publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) problems.push('the signature does not verify with the signer\'s key');
  return { content, certificates, digestAlgorithm, signer, signatureValid: problems.length === 0, problems };
}

export interface Verdict {
  valid: boolean;
  problems: string[];
  /** Signer first, then each issuer found, ending at a trusted CA or where the chain breaks. */
  chain: Certificate[];
  trusted: boolean;
}

/**
 * The trust decision: a chain from the signer through the embedded certificates to one of `cas`, every
 * certificate valid at `now`, CAs marked as CAs, and a signer allowed to sign. Without `cas`, trust is not
 * decided: the signature, the digest and the signer are still checked.
 */
export function judge(profile: SignedProfile, cas: readonly Certificate[], now: Date): Verdict {
  const problems = [...profile.problems];
  const chain: Certificate[] = [];
  let trusted = false;
  if (profile.signer) {
    const pool = [...profile.certificates, ...cas];
    const isCa = (c: Certificate) => cas.some((ca) => ca.sha256 === c.sha256);
    let current: Certificate | undefined = profile.signer;
    while (current && chain.length < 10) {
      chain.push(current);
      if (isCa(current)) {
        trusted = true;
        break;
      }
      if (isSelfSigned(current)) break;
      const child: Certificate = current;
      current = pool.find((c) => !chain.includes(c) && issuedBy(child, c));
      if (current && !current.x509.ca) {
        problems.push(`"${subjectCommonName(current)}" issued a certificate of the chain but is not a CA`);
        break;
      }
    }
    // Without a CA to trust there is no chain to judge: Macs hold the root, which profiles rarely embed.
    const last = chain.at(-1)!;
    if (cas.length && !trusted) {
      problems.push(isSelfSigned(last) ? `the chain ends at "${subjectCommonName(last)}", which is not a CA given with --ca` : `the chain is incomplete: no certificate for the issuer of "${subjectCommonName(last)}"`);
    }
    for (const cert of chain) {
      if (daysLeft(cert, now) < 0) problems.push(`"${subjectCommonName(cert)}" expired on ${new Date(cert.x509.validTo).toISOString().slice(0, 10)}`);
      if (new Date(cert.x509.validFrom) > now) problems.push(`"${subjectCommonName(cert)}" is not valid before ${new Date(cert.x509.validFrom).toISOString().slice(0, 10)}`);
    }
    const usage = keyUsage(profile.signer);
    if (typeof usage === 'string') problems.push(usage);
    else if (usage && !usage.digitalSignature) problems.push('the signer\'s keyUsage does not allow digitalSignature');
  }
  return { valid: problems.length === 0, problems, chain, trusted };
}

export function isCms(bytes: Uint8Array): boolean {
  return bytes[0] === 0x30 && bytes.length > 16 && Buffer.from(bytes.subarray(0, 32)).includes(Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]));
}

