import { z } from 'zod';
import { ValidationError, problemsFromZod } from './errors.js';

/**
 * The data that flows between stages: Hit (a detection matched a row) → grouped into threats
 * (one representative hit carrying a ThreatAggregate) → Enrichment (what CT, certificate age and
 * tuning add) → Finding (scored, ready to deliver; one per threat). Each is a zod schema with
 * its type inferred from it, so the queue and HTTP boundaries check exactly what the code reads
 * (one model, no second copy beside the interfaces). Queue messages carry these as JSON, so every
 * field is plain data. Where a boundary may meet an older or hand-written message, a field has a
 * default (an empty list or record) instead of being optional in the type.
 */

/** Severity levels, lowest first (Sentinel's incident severities; the incident payload and cards use them). */
export const LEVELS = ['Informational', 'Low', 'Medium', 'High'] as const;
export const levelSchema = z.enum(LEVELS);
export type Level = z.infer<typeof levelSchema>;
/** 0 for Informational … 3 for High: for sorting and for "never lower a severity". */
export const LEVEL_RANK: Record<Level, number> = { Informational: 0, Low: 1, Medium: 2, High: 3 };
/** High first, for summaries ("2 High · 1 Low"). */
export const LEVELS_HIGH_FIRST: readonly Level[] = [...LEVELS].reverse();

export const rowSchema = z.record(z.string(), z.unknown());
export type Row = z.infer<typeof rowSchema>;

/** One named contribution to a score, so an analyst can see why. */
export const signalSchema = z.object({
  /** Stable id, e.g. "self_signed", "ct_recent_issuance". */
  id: z.string(),
  points: z.number(),
  reason: z.string(),
});
export type Signal = z.infer<typeof signalSchema>;

/** The things a hit is about, in the shape Sentinel entities and cards need. */
export const entitiesSchema = z.object({
  /** Endpoint that produced the telemetry (DeviceName) or the client (SourceIP host). */
  host: z.string().optional(),
  account: z.string().optional(),
  sourceIp: z.string().optional(),
  destinationIp: z.string().optional(),
  destinationHost: z.string().optional(),
  destinationPort: z.number().int().optional(),
  processName: z.string().optional(),
  commandLine: z.string().optional(),
  parentProcessName: z.string().optional(),
  registryKey: z.string().optional(),
  filePath: z.string().optional(),
  fileHashSha1: z.string().optional(),
  fileHashSha256: z.string().optional(),
  url: z.string().optional(),
  /** DNS names worth a certificate-transparency lookup (destination host, CN, SANs, -DnsName). */
  domains: z.array(z.string()).default([]),
});
export type Entities = z.infer<typeof entitiesSchema>;

/** What the telemetry tells about the certificate involved, as far as it was logged. */
export const certificateObservationSchema = z.object({
  subject: z.string().optional(),
  issuer: z.string().optional(),
  subjectCommonName: z.string().optional(),
  issuerCommonName: z.string().optional(),
  sans: z.array(z.string()).optional(),
  serialNumber: z.string().optional(),
  /** Lower-case hex, no separators. */
  sha1: z.string().optional(),
  sha256: z.string().optional(),
  /** ISO-8601 UTC. */
  notBefore: z.string().optional(),
  notAfter: z.string().optional(),
  /** True when the telemetry (or a signature check) says the certificate signs itself. */
  selfSigned: z.boolean().optional(),
  /** Certificate store a thumbprint was written to (T1588.004). */
  store: z.string().optional(),
});
export type CertificateObservation = z.infer<typeof certificateObservationSchema>;

/** A Splunk alert (search id, and the notable event id under Splunk ES) or a QRadar offense. */
export const siemAlertRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('splunk'), sid: z.string(), searchName: z.string(), resultsLink: z.string().optional(), notableEventId: z.string().optional() }),
  z.object({ kind: z.literal('qradar'), offenseId: z.number() }),
]);
export type SiemAlertRef = z.infer<typeof siemAlertRefSchema>;

export const incidentRefSchema = z.object({
  /** ARM id of the incident: /subscriptions/…/providers/Microsoft.SecurityInsights/incidents/{id} */
  armId: z.string().optional(),
  incidentNumber: z.number().optional(),
  title: z.string().optional(),
  severity: z.string().optional(),
  url: z.string().optional(),
  /** Where the alert lives when it came from Splunk or QRadar, for the write-back there. */
  siem: siemAlertRefSchema.optional(),
});
export type IncidentRef = z.infer<typeof incidentRefSchema>;

/** One distinct source of a threat's rows (an internal host or an account) and how many rows it gave. */
export const sourceCountSchema = z.object({ name: z.string(), count: z.number().int().min(1) });
export type SourceCount = z.infer<typeof sourceCountSchema>;

/** The distinct sources of a threat, most rows first; beyond a cap they are counted, not listed. */
export const threatSourcesSchema = z.object({
  hosts: z.array(sourceCountSchema),
  accounts: z.array(sourceCountSchema),
  hostsOmitted: z.number().int().min(0),
  accountsOmitted: z.number().int().min(0),
});
export type ThreatSources = z.infer<typeof threatSourcesSchema>;

/** How a group of rows changes a threat that was already reported. */
export const threatUpdateSchema = z.object({
  /** When the threat was first reported (ISO). */
  firstReportedAt: z.string(),
  /** Rows this update adds. */
  newOccurrences: z.number().int().min(0),
  previousOccurrences: z.number().int().min(0),
  previousLastSeen: z.string(),
  /** Hosts and accounts not seen on the threat before. */
  newSources: z.array(z.string()),
  /** True when the change is worth telling people again (Teams): new sources, or stronger base signals. */
  material: z.boolean(),
});
export type ThreatUpdate = z.infer<typeof threatUpdateSchema>;

/** What a group of rows of one threat adds to its representative hit. */
export const threatAggregateSchema = z.object({
  /** The threat's identity in words: detection, endpoint or device, certificate or command. */
  key: z.string().min(1),
  /** Id of the threat's incident: the same key in the same active period (a new one after a quiet period). */
  id: z.string().min(1),
  /** Rows the threat stands for, over its whole active period (earlier reports included). */
  occurrences: z.number().int().min(1),
  /** Event times of the threat's first and last rows. */
  firstSeen: z.string().min(1),
  lastSeen: z.string().min(1),
  sources: threatSourcesSchema,
  /** Rows attributed to the threat without a certificate of their own (resumed TLS sessions). */
  withoutCertificate: z.number().int().min(0),
  /** Digest of the grouped hit keys: the same rows give the same digest (idempotent redelivery). */
  rowsDigest: z.string().min(1),
  /** Present when the threat was already reported: these rows update it. */
  update: threatUpdateSchema.optional(),
});
export type ThreatAggregate = z.infer<typeof threatAggregateSchema>;

/** A detection matched one row. Produced by hunts, the HTTP endpoint and the offline workspace alike. */
export const hitSchema = z.object({
  detectionId: z.string().min(1),
  /** Stable per detection: the same event always has the same key (dedup, idempotency). */
  key: z.string().min(1),
  /** Event time, ISO-8601 UTC. */
  time: z.string(),
  /** The row as the query projected it (or the raw table row offline). */
  row: rowSchema.default({}),
  /** Base signals from the detection's definition, points taken from tuning. */
  signals: z.array(signalSchema).default([]),
  /** Named indicator values the detection computed (IsSelfSigned, DetectionBranch, …), for cards and tests. */
  indicators: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  entities: entitiesSchema,
  certificate: certificateObservationSchema.optional(),
  /** When the hit came from a Sentinel incident (automation-rule path) or a Splunk/QRadar alert. */
  incident: incidentRefSchema.optional(),
  /** Set when this hit stands for a group of rows of one threat (shared/threats/). */
  threat: threatAggregateSchema.optional(),
});
export type Hit = z.infer<typeof hitSchema>;

/** Names of the enrichments; a missing one is reported so the finding can be re-enriched. */
export const enrichmentSourceSchema = z.enum(['crtsh', 'certificate_age', 'tls_probe']);
export type EnrichmentSource = z.infer<typeof enrichmentSourceSchema>;

export const ctHistorySchema = z.object({
  /** Registrable domain the history is for (public-suffix aware). */
  domain: z.string(),
  /** Earliest CT entry for the registrable domain, ISO-8601 UTC. */
  firstSeen: z.string().optional(),
  certificatesTotal: z.number(),
  issuedLast7Days: z.number(),
  issuedLast30Days: z.number(),
  distinctIssuers: z.number(),
  freeAcmeIssuers: z.array(z.string()),
  wildcardCertificates: z.number(),
  /** Whether the certificate seen in the hit is in this domain's history; undefined when the hit has nothing to match. */
  certificateInCt: z.boolean().optional(),
  /** crt.sh stopped at its row cap; counts are lower bounds. */
  truncated: z.boolean(),
  /** Where the answer came from, for the analyst and for tests. */
  source: z.enum(['crtsh', 'cache']),
});
export type CtHistory = z.infer<typeof ctHistorySchema>;

export const certificateAgeSchema = z.object({
  /** ISO-8601 UTC of the certificate's notBefore. */
  notBefore: z.string().optional(),
  notAfter: z.string().optional(),
  ageDays: z.number().optional(),
  /** Which source gave the dates. */
  from: z.enum(['log', 'ct', 'tls_probe']),
  /** The event time the age is measured at (the threat's first row), ISO-8601 UTC. */
  asOf: z.string().optional(),
});
export type CertificateAge = z.infer<typeof certificateAgeSchema>;

export const tlsProbeResultSchema = z.object({
  host: z.string(),
  port: z.number(),
  address: z.string().optional(),
  chain: z.array(
    z.object({
      subject: z.string(),
      issuer: z.string(),
      sans: z.array(z.string()),
      notBefore: z.string(),
      notAfter: z.string(),
      sha256: z.string(),
      serialNumber: z.string(),
    }),
  ),
  /** Leaf signature verifies with its own public key and subject equals issuer. */
  selfSigned: z.boolean(),
  authorized: z.boolean(),
  authorizationError: z.string().optional(),
});
export type TlsProbeResult = z.infer<typeof tlsProbeResultSchema>;

export const missingEnrichmentSchema = z.object({
  source: enrichmentSourceSchema,
  reason: z.string(),
  /** True when a later run should try again (outage), false when it can never succeed (no input). */
  retryable: z.boolean().default(false),
});
export type MissingEnrichment = z.infer<typeof missingEnrichmentSchema>;

/** Everything enrichment adds to a hit. */
export const enrichmentSchema = z.object({
  /** CT history of the primary registrable domain: the destination host's, else the first one the certificate names. */
  ct: ctHistorySchema.optional(),
  /** CT histories of the other registrable domains the certificate names (CN/SANs), one per domain, never `ct`'s. */
  ctOtherDomains: z.array(ctHistorySchema).optional(),
  /**
   * Whether the hit's certificate is in CT, decided once by the enricher over every lookup that
   * could have found it (fingerprint, serial/issuer in each history): true when one found it;
   * false only when every one of them ran to completion and none did; absent when nothing could
   * tell (no lookup, a failed or truncated one). The scorer, the card and the incident payload read it.
   */
  certificateInCt: z.boolean().optional(),
  /** Where it was found: "fingerprint" and/or the registrable domains whose CT history holds it. */
  certificateFoundIn: z.array(z.string()).optional(),
  /** crt.sh lookup of a fingerprint (T1588.004 thumbprints). */
  ctCertificate: z
    .object({
      found: z.boolean(),
      subject: z.string().optional(),
      issuer: z.string().optional(),
      notBefore: z.string().optional(),
      notAfter: z.string().optional(),
      selfSigned: z.boolean().optional(),
      crtshId: z.string().optional(),
    })
    .optional(),
  certificateAge: certificateAgeSchema.optional(),
  tlsProbe: tlsProbeResultSchema.optional(),
  missing: z.array(missingEnrichmentSchema),
  enrichedAt: z.string(),
});
export type Enrichment = z.infer<typeof enrichmentSchema>;

export const suppressionSchema = z.object({
  /** Id of the suppression rule in the tuning document. */
  rule: z.string(),
  reason: z.string(),
});
export type Suppression = z.infer<typeof suppressionSchema>;

export const scoreSchema = z.object({
  score: z.number(),
  level: levelSchema,
  reasons: z.array(signalSchema),
  suppressedBy: suppressionSchema.optional(),
});
export type Score = z.infer<typeof scoreSchema>;

/** A scored threat (or single hit), ready for delivery. */
export const findingSchema = scoreSchema.extend({
  /** Stable: derived from the threat id and its rows (or the hit key), so a redelivery yields the same finding id. */
  id: z.string().min(1),
  /** The threat's incident id: every update of one threat carries the same one. */
  threatId: z.string(),
  /** The threat's identity in words (detection, endpoint or device, certificate or command). */
  threatKey: z.string(),
  /** Rows the finding stands for, and the event times of the first and last. */
  occurrences: z.number(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  sources: threatSourcesSchema,
  /** Present when the finding updates a threat already reported (no new incident). */
  update: threatUpdateSchema.optional(),
  hit: hitSchema,
  enrichment: enrichmentSchema,
  scoredAt: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

/**
 * A finding as a queue message or a saved file may hold it: one written before threats lacks the
 * threat fields (shared/threats/finding-fields.ts fills them in as a threat of one row).
 */
export const storedFindingSchema = findingSchema.partial({ threatId: true, threatKey: true, occurrences: true, firstSeen: true, lastSeen: true, sources: true });

/** A value checked against a model schema; a failure names every bad field (under `path`). */
export function parseModel<S extends z.ZodType>(schema: S, value: unknown, what: string, path?: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(what, problemsFromZod(parsed.error.issues, path));
  return parsed.data;
}
