import type { Entities, Finding } from '../model.js';
import { redact } from '../redact.js';
import { escapeHtml, escapeMarkdownAndHtml } from '../text/escape.js';
import { detectionInfo } from './detection-info.js';
import { INCIDENT_SCHEMA_VERSION, type IncidentLinks, type IncidentPayload, incidentPayloadSchema } from './incident-schema.js';
import { findingLinks } from './links.js';

/** Reasons beyond this many are counted, not listed (a runaway twin must not make a huge payload). */
export const MAX_PAYLOAD_REASONS = 50;
/** Free-text fields (command lines, URLs) are cut to this many characters. */
export const MAX_PAYLOAD_TEXT = 2_000;

/** A one-line title: what happened to which entity. */
export function findingTitle(finding: Finding, detectionTitle: string): string {
  const entity = primaryEntity(finding);
  const title = entity ? `${detectionTitle}: ${entity}` : detectionTitle;
  return title.length > 250 ? `${title.slice(0, 249)}…` : title;
}

/** The entity an analyst recognises first: destination host, then domain, host, IP, file. */
export function primaryEntity(finding: Finding): string | undefined {
  const e = finding.hit.entities;
  return e.destinationHost ?? e.domains[0] ?? e.host ?? e.destinationIp ?? e.sourceIp ?? e.filePath ?? e.fileHashSha256 ?? e.fileHashSha1;
}

/** Builds (and validates) the incident payload for one finding. Every free text is redacted. */
export function buildIncidentPayload(finding: Finding, links: IncidentLinks = findingLinks(finding)): IncidentPayload {
  const detection = detectionInfo(finding.hit.detectionId);
  const cert = finding.hit.certificate;
  const incident = finding.hit.incident;
  const payload: IncidentPayload = {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    source: 'certsoar',
    findingId: finding.id,
    threat: threatOf(finding),
    // The title is plain text in Sentinel; reasons become the incident description (markdown and HTML).
    title: escapeHtml(clean(findingTitle(finding, detection.title))),
    severity: finding.level,
    level: finding.level,
    score: finding.score,
    eventTime: finding.hit.time,
    scoredAt: finding.scoredAt,
    detection,
    entities: cleanEntities(finding.hit.entities),
    ...(cert ? { certificate: certificateOf(cert) } : {}),
    reasons: finding.reasons.slice(0, MAX_PAYLOAD_REASONS).map((r) => ({ id: r.id, points: r.points, reason: escapeMarkdownAndHtml(clean(r.reason)) })),
    reasonsOmitted: Math.max(0, finding.reasons.length - MAX_PAYLOAD_REASONS),
    suppression: finding.suppressedBy ? { rule: finding.suppressedBy.rule, reason: escapeMarkdownAndHtml(clean(finding.suppressedBy.reason)) } : null,
    enrichment: enrichmentOf(finding.enrichment),
    links: dropUndefined({
      crtsh: links.crtsh,
      attack: links.attack,
      sentinelIncident: links.sentinelIncident ? redact(links.sentinelIncident) : undefined,
    }),
    ...(incident?.armId || incident?.incidentNumber !== undefined
      ? { sentinelIncident: dropUndefined({ armId: incident.armId, incidentNumber: incident.incidentNumber }) }
      : {}),
  };
  return incidentPayloadSchema.parse(payload);
}

/** The certificate as the payload carries it: names redacted, absent fields left out. */
function certificateOf(cert: NonNullable<Finding['hit']['certificate']>): NonNullable<IncidentPayload['certificate']> {
  return dropUndefined({
    subject: optClean(cert.subject ?? cert.subjectCommonName),
    issuer: optClean(cert.issuer ?? cert.issuerCommonName),
    sha1: cert.sha1,
    sha256: cert.sha256,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    selfSigned: cert.selfSigned,
    store: optClean(cert.store),
  });
}

/** What the enrichment found (CT history, certificate age) and what it could not look up. */
function enrichmentOf(enrichment: Finding['enrichment']): IncidentPayload['enrichment'] {
  const ct = enrichment.ct;
  const age = enrichment.certificateAge;
  return dropUndefined({
    ctDomain: ct?.domain,
    ctFirstSeen: ct?.firstSeen,
    recentIssuance: ct ? { last7Days: ct.issuedLast7Days, last30Days: ct.issuedLast30Days, total: ct.certificatesTotal, truncated: ct.truncated } : undefined,
    // Over every lookup (fingerprint, each domain's history), not just the primary domain's history.
    certificateInCt: enrichment.certificateInCt,
    certificateAgeDays: age?.ageDays,
    certificateNotBefore: age?.notBefore,
    certificateAgeFrom: age?.from,
    missing: enrichment.missing.map((m) => ({ source: m.source, reason: clean(m.reason), retryable: m.retryable })),
    enrichedAt: enrichment.enrichedAt,
  }) as IncidentPayload['enrichment'];
}

/** The finding's threat, sources redacted; an update names the incident it adds to (threat id). */
function threatOf(finding: Finding): NonNullable<IncidentPayload['threat']> {
  const sources = (list: Finding['sources']['hosts']) => list.map((s) => ({ name: clean(s.name), count: s.count }));
  return {
    id: finding.threatId,
    key: clean(finding.threatKey),
    kind: finding.update ? 'update' : 'new',
    occurrences: finding.occurrences,
    firstSeen: finding.firstSeen,
    lastSeen: finding.lastSeen,
    withoutCertificate: finding.hit.threat?.withoutCertificate ?? 0,
    sources: {
      hosts: sources(finding.sources.hosts),
      accounts: sources(finding.sources.accounts),
      hostsOmitted: finding.sources.hostsOmitted,
      accountsOmitted: finding.sources.accountsOmitted,
    },
    ...(finding.update ? { update: { ...finding.update, newSources: finding.update.newSources.map(clean) } } : {}),
  };
}

function cleanEntities(e: Entities): IncidentPayload['entities'] {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? clean(v) : v;
  }
  out.domains = e.domains.slice(0, 50).map(clean);
  return out as IncidentPayload['entities'];
}

function clean(text: string): string {
  const r = redact(text);
  return r.length > MAX_PAYLOAD_TEXT ? `${r.slice(0, MAX_PAYLOAD_TEXT - 1)}…` : r;
}

function optClean(text: string | undefined): string | undefined {
  return text === undefined ? undefined : clean(text);
}

function dropUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
