import type { Finding } from '../model.js';
import { detectionInfo } from './detection-info.js';
import type { IncidentLinks } from './incident-schema.js';

/** Analysts open the public crt.sh, whatever mirror CRTSH_BASE_URL points the client at. */
export const CRTSH_PUBLIC = 'https://crt.sh';
const AZURE_PORTAL = 'https://portal.azure.com';

/** The crt.sh search for the certificate (fingerprint first: most specific) or its registrable domain. */
export function crtshLink(finding: Finding, base = CRTSH_PUBLIC): string | undefined {
  const cert = finding.hit.certificate;
  const fingerprint = cert?.sha256 ?? cert?.sha1 ?? finding.hit.entities.fileHashSha256 ?? finding.hit.entities.fileHashSha1;
  if (fingerprint && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(fingerprint)) return `${base}/?q=${fingerprint.toLowerCase()}`;
  const domain = finding.enrichment.ct?.domain ?? finding.hit.entities.domains[0];
  if (domain && /^[a-z0-9.*-]+$/i.test(domain)) return `${base}/?q=${encodeURIComponent(domain)}`;
  return undefined;
}

/** The Sentinel incident in the portal: the URL the incident trigger gave, else built from the ARM id. */
export function sentinelIncidentLink(finding: Finding): string | undefined {
  const incident = finding.hit.incident;
  if (!incident) return undefined;
  if (incident.url && /^https:\/\//i.test(incident.url)) return incident.url;
  if (incident.armId && /^\/subscriptions\//i.test(incident.armId)) {
    return `${AZURE_PORTAL}/#asset/Microsoft_Azure_Security_Insights/Incident${incident.armId}`;
  }
  return undefined;
}

export function findingLinks(finding: Finding, options: { crtshBase?: string } = {}): IncidentLinks {
  const crtsh = crtshLink(finding, options.crtshBase);
  const attack = detectionInfo(finding.hit.detectionId).technique?.url;
  const sentinelIncident = sentinelIncidentLink(finding);
  return { ...(crtsh ? { crtsh } : {}), ...(attack ? { attack } : {}), ...(sentinelIncident ? { sentinelIncident } : {}) };
}
