import forge from 'node-forge';

// node-forge is used for ASN.1 structure only (reading certificates' fields, building CMS). Every
// signature is made and checked with node:crypto, and chains are judged with X509Certificate: forge's
// verify is not implemented and its chain checks have known bypasses (shared/guides/hostile-inputs.md).
export const asn1 = forge.asn1;
export type Asn1 = forge.asn1.Asn1;

// forge's fromDer takes an options object (its type definitions still say boolean). maxDepth caps the
// recursion that CVE-2025-66031 exploited.
type FromDer = (bytes: forge.util.ByteStringBuffer, options: { parseAllBytes: boolean; decodeBitStrings: boolean; strict: boolean; maxDepth: number }) => Asn1;

/** Parses DER; throws on malformed input, trailing bytes or nesting deeper than 64. */
export function fromDer(bytes: Uint8Array): Asn1 {
  return (asn1.fromDer as unknown as FromDer)(forge.util.createBuffer(Buffer.from(bytes).toString('binary')), { parseAllBytes: true, decodeBitStrings: false, strict: true, maxDepth: 64 });
}

export function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export function oid(id: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

export function oidOf(node: Asn1 | undefined): string | undefined {
  return node && node.type === asn1.Type.OID && typeof node.value === 'string' ? asn1.derToOid(forge.util.createBuffer(node.value)) : undefined;
}

export function seq(children: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, children);
}

/** A SET OF in DER order: elements sorted by their encodings (X.690 11.6). */
export function setOf(children: Asn1[]): Asn1 {
  const sorted = children.map((c) => ({ c, der: toDer(c) })).sort((a, b) => Buffer.compare(a.der, b.der)).map(({ c }) => c);
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, sorted);
}


export function integer(value: number): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}


export function children(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? (node.value as Asn1[]) : [];
}

export function bytesOf(node: Asn1 | undefined): Buffer {
  return node && typeof node.value === 'string' ? Buffer.from(node.value, 'binary') : Buffer.alloc(0);
}
