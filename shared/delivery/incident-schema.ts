import { z } from 'zod';

/**
 * The incident payload certsoar posts to INCIDENT_WEBHOOK_URL. The Logic App trigger in infra/
 * validates requests with incidentJsonSchema(), so the two can never drift apart. Bump the
 * version on any breaking change; additive optional fields keep it.
 */
export const INCIDENT_SCHEMA_VERSION = '1.0';

const level = z.enum(['Informational', 'Low', 'Medium', 'High']);
const link = z.url({ protocol: /^https?$/ });

export const incidentReasonSchema = z.object({
  id: z.string(),
  points: z.number(),
  reason: z.string(),
});

export const incidentDetectionSchema = z.object({
  id: z.string(),
  title: z.string(),
  /** False for ad-hoc observables (POST /api/enrich with a bare domain/hash) that no shipped detection produced. */
  known: z.boolean(),
  technique: z
    .object({
      id: z.string(),
      name: z.string(),
      url: link,
    })
    .optional(),
  tactic: z.string().optional(),
  tactics: z.array(z.string()),
});

export const incidentEntitiesSchema = z.object({
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
  domains: z.array(z.string()),
});

export const incidentCertificateSchema = z.object({
  subject: z.string().optional(),
  issuer: z.string().optional(),
  sha1: z.string().optional(),
  sha256: z.string().optional(),
  serialNumber: z.string().optional(),
  notBefore: z.string().optional(),
  notAfter: z.string().optional(),
  selfSigned: z.boolean().optional(),
  store: z.string().optional(),
});

export const incidentEnrichmentSchema = z.object({
  /** Registrable domain the CT history is for. */
  ctDomain: z.string().optional(),
  /** Earliest CT entry for the registrable domain. */
  ctFirstSeen: z.string().optional(),
  recentIssuance: z
    .object({
      last7Days: z.number().int(),
      last30Days: z.number().int(),
      total: z.number().int(),
      truncated: z.boolean(),
    })
    .optional(),
  certificateInCt: z.boolean().optional(),
  certificateAgeDays: z.number().optional(),
  certificateNotBefore: z.string().optional(),
  certificateAgeFrom: z.enum(['log', 'ct', 'tls_probe']).optional(),
  missing: z.array(
    z.object({
      source: z.enum(['crtsh', 'certificate_age', 'tls_probe']),
      reason: z.string(),
      retryable: z.boolean(),
    }),
  ),
  enrichedAt: z.string(),
});

export const incidentLinksSchema = z.object({
  crtsh: link.optional(),
  attack: link.optional(),
  sentinelIncident: link.optional(),
});

const sourceCount = z.object({ name: z.string(), count: z.number().int().min(1) });

/** The threat a finding stands for: its rows, their event times and sources, and whether it updates an earlier incident. */
export const incidentThreatSchema = z.object({
  /** Every payload about one threat carries the same id: the receiver's key for "the incident of this threat". */
  id: z.string().min(1),
  /** The threat's identity in words (detection, endpoint or device, certificate or command). */
  key: z.string(),
  /** "new": raise an incident; "update": add to the incident of threat `id` (a comment), do not raise another. */
  kind: z.enum(['new', 'update']),
  /** Rows the threat stands for over its active period, and the event times of the first and last. */
  occurrences: z.number().int().min(1),
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** Rows attributed without a certificate of their own (resumed TLS sessions to the same endpoint). */
  withoutCertificate: z.number().int().min(0),
  sources: z.object({
    hosts: z.array(sourceCount),
    accounts: z.array(sourceCount),
    hostsOmitted: z.number().int().min(0),
    accountsOmitted: z.number().int().min(0),
  }),
  update: z
    .object({
      firstReportedAt: z.string(),
      newOccurrences: z.number().int().min(0),
      previousOccurrences: z.number().int().min(0),
      previousLastSeen: z.string(),
      newSources: z.array(z.string()),
      /** New sources or stronger signals: worth telling people again. */
      material: z.boolean(),
    })
    .optional(),
});

export const incidentPayloadSchema = z.object({
  schemaVersion: z.literal(INCIDENT_SCHEMA_VERSION),
  source: z.literal('certsoar'),
  /** Stable per threat and rows: the receiver's dedupe key (the Idempotency-Key header carries it too). */
  findingId: z.string().min(1),
  /** The threat this finding stands for (always set by certsoar; optional for receivers of 1.0 payloads). */
  threat: incidentThreatSchema.optional(),
  title: z.string().min(1).max(256),
  /** Sentinel severity, equal to level. */
  severity: level,
  level,
  score: z.number(),
  /** ISO-8601 UTC (kept a plain string so the JSON Schema stays readable in the Logic App designer). */
  eventTime: z.string(),
  scoredAt: z.string(),
  detection: incidentDetectionSchema,
  entities: incidentEntitiesSchema,
  certificate: incidentCertificateSchema.optional(),
  reasons: z.array(incidentReasonSchema),
  /** Reasons left out to keep the payload small. */
  reasonsOmitted: z.number().int().min(0),
  suppression: z.object({ rule: z.string(), reason: z.string() }).nullable(),
  enrichment: incidentEnrichmentSchema,
  links: incidentLinksSchema,
  sentinelIncident: z
    .object({
      armId: z.string().optional(),
      incidentNumber: z.number().int().optional(),
    })
    .optional(),
});

export type IncidentPayload = z.infer<typeof incidentPayloadSchema>;
export type IncidentLinks = z.infer<typeof incidentLinksSchema>;

/** The payload schema as JSON Schema (draft-04, the dialect Logic Apps request triggers read). */
export function incidentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(incidentPayloadSchema, { target: 'draft-04', io: 'output' }) as Record<string, unknown>;
}
