import type { CertificateObservation, CtHistory, Enrichment, Hit } from '../model.js';
import { normaliseSerial } from './crtsh-records.js';
import { commonNameOf } from '../distinguished-name.js';

export interface CtPresence {
  /** true: a lookup found the certificate; false: every lookup that could have found it ran and none did; undefined: cannot tell. */
  inCt?: boolean;
  /** "fingerprint" and/or the registrable domains whose history holds the certificate. */
  foundIn: string[];
}

type PresenceFacts = Pick<Enrichment, 'ct' | 'ctOtherDomains' | 'ctCertificate' | 'missing'>;

/**
 * Whether the hit's certificate is in CT, from the lookups the enrichment holds. A certificate is
 * absent only when no lookup that could have found it did: the fingerprint was not found (when
 * the hit has one) and no history it could be in holds its serial/issuer (or name and date). A
 * lookup that failed, was skipped or stopped at crt.sh's row cap can hide it, so any of those
 * makes the answer "cannot tell", never "absent".
 */
export function ctPresence(hit: Pick<Hit, 'certificate'>, e: PresenceFacts): CtPresence {
  const histories = ctHistories(e);
  const foundIn: string[] = [];
  if (e.ctCertificate?.found) foundIn.push('fingerprint');
  for (const h of histories) if (h.certificateInCt === true) foundIn.push(h.domain);
  if (foundIn.length > 0) return { inCt: true, foundIn };

  if (e.missing.some((m) => m.source === 'crtsh')) return { foundIn };
  let decided = 0;
  if (e.ctCertificate?.found === false) decided++;
  if (hit.certificate && hasHistoryMatchKey(hit.certificate)) {
    for (const h of histories) {
      // Undecided (legacy answer without serials) or cut at the row cap: the certificate may be there.
      if (h.truncated || h.certificateInCt === undefined) return { foundIn };
      decided++;
    }
  }
  return decided > 0 ? { inCt: false, foundIn } : { foundIn };
}

/** Primary history first, then those of the other domains the certificate names. */
export function ctHistories(e: Pick<Enrichment, 'ct' | 'ctOtherDomains'>): CtHistory[] {
  return [...(e.ct ? [e.ct] : []), ...(e.ctOtherDomains ?? [])];
}

/** What matchCertificate can look for in a history: a serial, or a common name with its notBefore. */
export function hasHistoryMatchKey(cert: CertificateObservation): boolean {
  if (normaliseSerial(cert.serialNumber)) return true;
  const cn = cert.subjectCommonName ?? commonNameOf(cert.subject);
  return Boolean(cn) && cert.notBefore !== undefined && !Number.isNaN(Date.parse(cert.notBefore));
}
