import { createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { keyUsage } from './extensions.js';
import { CA_SIGNER, CertificateError, daysLeft, isSelfSigned, issuedBy, readCertificates, subjectCommonName, type Certificate } from './certificates.js';
import { toDer } from './der.js';

export interface SigningIdentity {
  certificate: Certificate;
  /** Parsed once; every signature uses it through node:crypto. */
  key: KeyObject;
  /** Intermediates (and a root, if given) embedded in every signature. */
  chain: Certificate[];
}

export class IdentityError extends Error {
  readonly code: 'signing/unreadable' | 'signing/passphrase';
  constructor(code: IdentityError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface IdentityFiles {
  certificate?: Buffer;
  key?: Buffer;
  pkcs12?: Buffer;
  passphrase?: string;
  chain: Buffer[];
}

/** Reads a signing identity: PEM certificate and key, or PKCS#12 (AES or the legacy 3DES/SHA-1 Keychain Access exports). */
export function loadIdentity(files: IdentityFiles): SigningIdentity {
  const chain = files.chain.flatMap((bytes, i) => certificates(bytes, `chain file ${i + 1}`));
  if (files.pkcs12) {
    const fromFile = fromPkcs12(files.pkcs12, files.passphrase);
    return { ...fromFile, chain: [...fromFile.chain, ...chain] };
  }
  if (!files.certificate || !files.key) throw new IdentityError('signing/unreadable', 'signing needs certificate and key, or pkcs12');
  const [certificate, ...rest] = certificates(files.certificate, 'the signing certificate');
  let key: KeyObject;
  try {
    key = createPrivateKey(files.passphrase === undefined ? files.key : { key: files.key, passphrase: files.passphrase });
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(files.key.toString('latin1', 0, 200));
    throw encrypted
      ? new IdentityError('signing/passphrase', files.passphrase === undefined ? 'the signing key is encrypted and no passphrase is configured' : 'the passphrase does not decrypt the signing key')
      : new IdentityError('signing/unreadable', `the signing key cannot be read (${(error as { code?: string }).code ?? 'not a PEM or DER private key'})`);
  }
  return { certificate: certificate!, key, chain: [...rest, ...chain] };
}

function certificates(bytes: Buffer, what: string): Certificate[] {
  try {
    return readCertificates(bytes);
  } catch (error) {
    throw new IdentityError('signing/unreadable', `${what}: ${(error as CertificateError).message}`);
  }
}

function fromPkcs12(bytes: Buffer, passphrase: string | undefined): SigningIdentity {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary'))), false, passphrase ?? '');
  } catch (error) {
    const message = (error as Error).message;
    if (/MAC could not be verified|Invalid password|decrypt/i.test(message)) {
      throw new IdentityError('signing/passphrase', passphrase === undefined ? 'the PKCS#12 file needs a passphrase; set signing.passphrase' : 'the passphrase does not open the PKCS#12 file');
    }
    throw new IdentityError('signing/unreadable', 'the PKCS#12 file cannot be read');
  }
  const keyBags = [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!].flatMap((type) => p12.getBags({ bagType: type })[type] ?? []);
  if (keyBags.length !== 1) throw new IdentityError('signing/unreadable', `the PKCS#12 file holds ${keyBags.length} private keys; one is needed`);
  // forge decodes RSA keys itself and leaves others (EC) as ASN.1; both become PKCS#8 DER for node:crypto.
  const bag = keyBags[0]!;
  const pkcs8 = bag.key ? toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key))) : toDer(bag.asn1 as forge.asn1.Asn1);
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const certs = certBags.map((b) => readCertificates(b.cert ? toDer(forge.pki.certificateToAsn1(b.cert)) : toDer(b.asn1 as forge.asn1.Asn1))[0]!);
  const signer = certs.find((c) => c.x509.checkPrivateKey(key));
  if (!signer) throw new IdentityError('signing/unreadable', 'the PKCS#12 file holds no certificate for its private key');
  return { certificate: signer, key, chain: certs.filter((c) => c !== signer) };
}

export interface IdentityProblem {
  code: 'signing/invalid' | 'signing/expiring' | 'signing/incomplete-chain' | 'signing/ca-signer';
  message: string;
}

/**
 * What would make Macs reject or distrust the signature, checked before anything is written. `anchors` are
 * the fleet's trust anchors: the chain may end at one of them, since the trust profile installs it.
 */
export function checkIdentity(identity: SigningIdentity, now: Date, anchors: readonly Certificate[] = []): IdentityProblem[] {
  const { certificate, key, chain } = identity;
  const name = `the signing certificate "${subjectCommonName(certificate)}"`;
  const problems: IdentityProblem[] = [];
  const invalid = (message: string) => problems.push({ code: 'signing/invalid', message });
  const from = new Date(certificate.x509.validFrom);
  const to = new Date(certificate.x509.validTo);
  if (now < from) invalid(`${name} is not valid before ${from.toISOString().slice(0, 10)}`);
  if (now > to) invalid(`${name} expired on ${to.toISOString().slice(0, 10)}; Macs treat a profile signed with it as unsigned`);
  const usage = keyUsage(certificate);
  if (typeof usage === 'string') invalid(usage);
  else if (usage && !usage.digitalSignature) invalid(`${name} has a keyUsage without digitalSignature, so it cannot sign`);
  if (!certificate.x509.checkPrivateKey(key)) invalid(`the signing key does not belong to ${name}`);
  if (!['rsa', 'ec'].includes(key.asymmetricKeyType ?? '')) invalid(`the signing key is ${key.asymmetricKeyType}; RSA and EC keys are supported`);
  if (problems.length) return problems;

  const left = daysLeft(certificate, now);
  if (left < 30) {
    problems.push({ code: 'signing/expiring', message: `${name} expires on ${to.toISOString().slice(0, 10)} (in ${Math.ceil(left)} days); installed profiles then show as Unverified` });
  }
  if (certificate.x509.ca) problems.push({ code: 'signing/ca-signer', message: CA_SIGNER(name) });
  if (!reachesRoot(certificate, [...chain, ...anchors])) {
    problems.push({ code: 'signing/incomplete-chain', message: `the chain from ${name} does not reach a self-signed root; add the intermediates to signing.chain, or Macs may show Unverified` });
  }
  return problems;
}

function reachesRoot(leaf: Certificate, pool: Certificate[]): boolean {
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (isSelfSigned(current)) return true;
    const issuer = pool.find((c) => issuedBy(current, c));
    if (!issuer) return false;
    current = issuer;
  }
  return false;
}
