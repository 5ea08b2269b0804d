import type { CertificateAge, CertificateObservation, TlsProbeResult } from '../model.js';
import type { CtCertificate } from './crtsh-client.js';
import type { CtMatch } from './ct-history.js';

const DAY_MS = 86_400_000;

/**
 * The certificate's age from the best source at hand: the vendor's own log fields, then the
 * matching CT record (history match or fingerprint lookup), then the live TLS probe's leaf.
 */
export function certificateAge(
  now: Date,
  sources: { log?: CertificateObservation; ct?: CtMatch | null; ctCertificate?: CtCertificate; probe?: TlsProbeResult },
): CertificateAge | undefined {
  const fromLog = dates(sources.log?.notBefore, sources.log?.notAfter);
  if (fromLog) return age(now, fromLog, 'log');
  const fromCt = dates(sources.ct?.notBefore, sources.ct?.notAfter) ?? (sources.ctCertificate?.found ? dates(sources.ctCertificate.notBefore, sources.ctCertificate.notAfter) : undefined);
  if (fromCt) return age(now, fromCt, 'ct');
  const leaf = sources.probe?.chain[0];
  const fromProbe = dates(leaf?.notBefore, leaf?.notAfter);
  if (fromProbe) return age(now, fromProbe, 'tls_probe');
  return undefined;
}

function dates(notBefore: string | undefined, notAfter: string | undefined): { notBefore: string; notAfter?: string } | undefined {
  const nb = notBefore ? Date.parse(notBefore) : NaN;
  if (Number.isNaN(nb)) return undefined;
  const na = notAfter ? Date.parse(notAfter) : NaN;
  return { notBefore: new Date(nb).toISOString(), ...(Number.isNaN(na) ? {} : { notAfter: new Date(na).toISOString() }) };
}

function age(now: Date, d: { notBefore: string; notAfter?: string }, from: CertificateAge['from']): CertificateAge {
  const ageDays = Math.floor(((now.getTime() - Date.parse(d.notBefore)) / DAY_MS) * 100) / 100;
  return { notBefore: d.notBefore, ...(d.notAfter ? { notAfter: d.notAfter } : {}), ageDays, from };
}
