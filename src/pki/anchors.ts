import type { Code, KeyPath } from '../diagnostics/diagnostic.js';
import type { TrustSpec } from '../fleet/model.js';
import { daysLeft, subjectCommonName, type Certificate } from './certificates.js';

export interface AnchorProblem { code: Code; message: string; keyPath: KeyPath }

const WARN_DAYS = 90;

/**
 * The trust anchors, in order, each certificate once (the same CA given as PEM and as DER is one anchor).
 * Refused: a certificate that is not a CA, an expired one, a pin that does not match.
 */
export function checkAnchors(files: readonly { spec: TrustSpec; certs: Certificate[] }[], now: Date): { anchors: Certificate[]; problems: AnchorProblem[] } {
  const anchors: Certificate[] = [];
  const problems: AnchorProblem[] = [];
  for (const { spec, certs } of files) {
    const where = (i: number, cert: Certificate) => `${spec.file}${certs.length > 1 ? `, certificate ${i + 1}` : ''} ("${subjectCommonName(cert)}")`;
    if (spec.sha256 !== undefined) {
      if (certs.length !== 1) problems.push({ code: 'trust/pin-mismatch', message: `${spec.file} holds ${certs.length} certificates; a sha256 pin needs a file with one`, keyPath: [...spec.keyPath, 'sha256'] });
      else if (certs[0]!.sha256 !== spec.sha256) problems.push({ code: 'trust/pin-mismatch', message: `${where(0, certs[0]!)} has SHA-256 ${certs[0]!.sha256}, not the pinned one`, keyPath: [...spec.keyPath, 'sha256'] });
    }
    certs.forEach((cert, i) => {
      const left = daysLeft(cert, now);
      const until = new Date(cert.x509.validTo).toISOString().slice(0, 10);
      if (!cert.x509.ca) problems.push({ code: 'trust/not-ca', message: `${where(i, cert)} is not a CA certificate (basicConstraints CA:TRUE), so it cannot be a trust anchor`, keyPath: spec.keyPath });
      else if (left < 0) problems.push({ code: 'trust/expired', message: `${where(i, cert)} expired on ${until}`, keyPath: spec.keyPath });
      else if (left < WARN_DAYS) problems.push({ code: 'trust/expiring', message: `${where(i, cert)} expires on ${until}, in ${Math.ceil(left)} days`, keyPath: spec.keyPath });
      if (!anchors.some((a) => a.sha256 === cert.sha256)) anchors.push(cert);
    });
  }
  return { anchors, problems };
}
