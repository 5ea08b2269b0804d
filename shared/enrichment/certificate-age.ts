import type { CertificateAge, CertificateObservation, Hit, TlsProbeResult } from '../model.js';
import type { CtCertificate } from './crtsh-client.js';
import type { CtMatch } from './ct-history.js';

const DAY_MS = 86_400_000;

/**
 * The time a hit's certificate age is measured at: the event time of the threat's first row (the
 * hit's own event time for a single row), never the hunt's clock, so a certificate 20 minutes old
 * when a replayed log saw it in use is new. A missing, unreadable or future event time falls back
 * to `now`.
 */
export function eventTimeOf(hit: Pick<Hit, 'time' | 'threat'>, now: Date): Date {
  const t = Date.parse(hit.threat?.firstSeen ?? hit.time);
  return Number.isNaN(t) || t > now.getTime() ? now : new Date(t);
}

/**
 * The certificate's age at `asOf` (the event time, see eventTimeOf) from the best source at hand:
 * the vendor's own log fields, then the matching CT record (history match or fingerprint lookup),
 * then the live TLS probe's leaf.
 */
export function certificateAge(
  asOf: Date,
  sources: { log?: CertificateObservation; ct?: CtMatch | null; ctCertificate?: CtCertificate; probe?: TlsProbeResult },
): CertificateAge | undefined {
  const fromLog = dates(sources.log?.notBefore, sources.log?.notAfter);
  if (fromLog) return age(asOf, fromLog, 'log');
  const fromCt = dates(sources.ct?.notBefore, sources.ct?.notAfter) ?? (sources.ctCertificate?.found ? dates(sources.ctCertificate.notBefore, sources.ctCertificate.notAfter) : undefined);
  if (fromCt) return age(asOf, fromCt, 'ct');
  const leaf = sources.probe?.chain[0];
  const fromProbe = dates(leaf?.notBefore, leaf?.notAfter);
  // The probe sees today's certificate: one issued after the event is not the one the event saw.
  if (fromProbe && Date.parse(fromProbe.notBefore) <= asOf.getTime()) return age(asOf, fromProbe, 'tls_probe');
  return undefined;
}

function dates(notBefore: string | undefined, notAfter: string | undefined): { notBefore: string; notAfter?: string } | undefined {
  const nb = notBefore ? Date.parse(notBefore) : NaN;
  if (Number.isNaN(nb)) return undefined;
  const na = notAfter ? Date.parse(notAfter) : NaN;
  return { notBefore: new Date(nb).toISOString(), ...(Number.isNaN(na) ? {} : { notAfter: new Date(na).toISOString() }) };
}

function age(asOf: Date, d: { notBefore: string; notAfter?: string }, from: CertificateAge['from']): CertificateAge {
  const ageDays = Math.floor(((asOf.getTime() - Date.parse(d.notBefore)) / DAY_MS) * 100) / 100;
  return { notBefore: d.notBefore, ...(d.notAfter ? { notAfter: d.notAfter } : {}), ageDays, from, asOf: asOf.toISOString() };
}
