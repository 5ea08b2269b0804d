import { commonNameOf } from '../distinguished-name.js';
import type { CertificateObservation, CtHistory } from '../model.js';
import { includesFold } from '../text/fold.js';
import { type CtRecord, normaliseSerial } from './crtsh-records.js';

/**
 * CT history of a registrable domain, reduced to what the features need: one entry per distinct
 * certificate (a precertificate and its certificate share serial and issuer, so they count once).
 * This compact form is what the cache stores: features depend on "now" and on the hit's
 * certificate, so they are computed from it on every enrichment, never stored.
 */
export interface CompactHistory {
  v: 1;
  domain: string;
  fetchedAt: string;
  /** crt.sh stopped at its row cap. */
  truncated: boolean;
  rawRows: number;
  issuers: string[];
  certs: CompactCert[];
}

/**
 * [serial ('' in the legacy format), index into issuers, notBefore (epoch s), notAfter (epoch s),
 * earliest CT entry (epoch s, or null), 1 when any name is a wildcard, common name ('' when none)]
 */
export type CompactCert = [string, number, number, number, number | null, 0 | 1, string];

export function compactHistory(domain: string, records: CtRecord[], rawRows: number, truncated: boolean, fetchedAt: Date): CompactHistory {
  const issuers: string[] = [];
  const issuerIndex = new Map<string, number>();
  const byKey = new Map<string, CompactCert>();
  for (const r of records) {
    let idx = issuerIndex.get(r.issuerName);
    if (idx === undefined) {
      idx = issuers.push(r.issuerName) - 1;
      issuerIndex.set(r.issuerName, idx);
    }
    const key = r.serialNumber
      ? `${r.issuerCaId}|${r.serialNumber}`
      : `${r.issuerCaId}|${r.notBefore}|${r.notAfter}|${[...r.names].sort().join(',')}`;
    const entry = r.entryTimestamp ? toSeconds(r.entryTimestamp) : null;
    const wildcard: 0 | 1 = r.names.some((n) => n.startsWith('*.')) || r.commonName?.startsWith('*.') ? 1 : 0;
    const existing = byKey.get(key);
    if (existing) {
      if (entry !== null && (existing[4] === null || entry < existing[4])) existing[4] = entry;
      if (wildcard) existing[5] = 1;
      continue;
    }
    byKey.set(key, [r.serialNumber ?? '', idx, toSeconds(r.notBefore), toSeconds(r.notAfter), entry, wildcard, r.commonName ?? '']);
  }
  return { v: 1, domain, fetchedAt: fetchedAt.toISOString(), truncated, rawRows, issuers, certs: [...byKey.values()] };
}

export interface HistoryContext {
  now: Date;
  /** Issuer name fragments of free ACME CAs (tuning.enrichment.freeAcmeIssuers). */
  freeAcmeIssuers: readonly string[];
  certificate?: CertificateObservation;
  source: CtHistory['source'];
}

export function ctHistoryFeatures(history: CompactHistory, ctx: HistoryContext): CtHistory {
  const nowS = ctx.now.getTime() / 1000;
  const issuerNames = new Set<string>();
  let firstSeen: number | undefined;
  let last7 = 0;
  let last30 = 0;
  let wildcards = 0;
  for (const c of history.certs) {
    const issuer = history.issuers[c[1]] ?? '';
    if (issuer !== 'Issuer Not Found') issuerNames.add(issuer);
    const seen = c[4] ?? c[2];
    if (firstSeen === undefined || seen < firstSeen) firstSeen = seen;
    const ageDays = (nowS - c[2]) / 86_400;
    if (ageDays <= 7 && ageDays >= -1) last7++;
    if (ageDays <= 30 && ageDays >= -1) last30++;
    if (c[5] === 1) wildcards++;
  }
  const freeAcme = ctx.freeAcmeIssuers.filter((fragment) => [...issuerNames].some((name) => includesFold(name, fragment)));
  const match = ctx.certificate ? matchCertificate(history, ctx.certificate) : undefined;
  return {
    domain: history.domain,
    ...(firstSeen !== undefined ? { firstSeen: new Date(firstSeen * 1000).toISOString() } : {}),
    certificatesTotal: history.certs.length,
    issuedLast7Days: last7,
    issuedLast30Days: last30,
    distinctIssuers: issuerNames.size,
    freeAcmeIssuers: freeAcme,
    wildcardCertificates: wildcards,
    ...(match !== undefined ? { certificateInCt: match !== null } : {}),
    truncated: history.truncated,
    source: ctx.source,
  };
}

export interface CtMatch {
  issuer: string;
  notBefore: string;
  notAfter: string;
}

/**
 * Finds the hit's certificate among the domain's CT entries: by serial (and issuer when the hit
 * names one), else by common name and notBefore. undefined when the hit carries nothing to match
 * on; null when it does and nothing matches.
 */
export function matchCertificate(history: CompactHistory, cert: CertificateObservation): CtMatch | null | undefined {
  const serial = normaliseSerial(cert.serialNumber);
  const issuerCn = cert.issuerCommonName ?? commonNameOf(cert.issuer);
  const subjectCn = (cert.subjectCommonName ?? commonNameOf(cert.subject))?.toLowerCase();
  const notBefore = cert.notBefore ? Math.floor(Date.parse(cert.notBefore) / 1000) : undefined;
  if (!serial && !(subjectCn && notBefore !== undefined && !Number.isNaN(notBefore))) return undefined;
  if (serial && history.certs.length > 0 && !history.certs.some((c) => c[0] !== '')) {
    // Legacy answers have no serials: fall back to name and date when we can, else we cannot tell.
    // (An empty history holds no certificate at all: that is a clear "not there".)
    if (!(subjectCn && notBefore !== undefined)) return undefined;
  }
  const found = history.certs.find((c) => {
    const issuer = history.issuers[c[1]] ?? '';
    if (serial && c[0] !== '') return c[0] === serial && (!issuerCn || includesFold(issuer, issuerCn));
    return subjectCn !== undefined && c[6].toLowerCase() === subjectCn && notBefore !== undefined && Math.abs(c[2] - notBefore) < 1;
  });
  if (!found) return null;
  return { issuer: history.issuers[found[1]] ?? '', notBefore: new Date(found[2] * 1000).toISOString(), notAfter: new Date(found[3] * 1000).toISOString() };
}

function toSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
