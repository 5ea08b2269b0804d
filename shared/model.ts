/**
 * The data that flows between stages: Hit (a detection matched a row) → grouped into threats
 * (one representative hit carrying a ThreatAggregate) → Enrichment (what CT, certificate age and
 * tuning add) → Finding (scored, ready to deliver; one per threat). Queue messages carry these as
 * JSON, so every field is plain data.
 */

export type Level = 'Informational' | 'Low' | 'Medium' | 'High';

export type Row = Record<string, unknown>;

/** One named contribution to a score, so an analyst can see why. */
export interface Signal {
  /** Stable id, e.g. "self_signed", "ct_recent_issuance". */
  id: string;
  points: number;
  reason: string;
}

/** The things a hit is about, in the shape Sentinel entities and cards need. */
export interface Entities {
  /** Endpoint that produced the telemetry (DeviceName) or the client (SourceIP host). */
  host?: string;
  account?: string;
  sourceIp?: string;
  destinationIp?: string;
  destinationHost?: string;
  destinationPort?: number;
  processName?: string;
  commandLine?: string;
  parentProcessName?: string;
  registryKey?: string;
  filePath?: string;
  fileHashSha1?: string;
  fileHashSha256?: string;
  url?: string;
  /** DNS names worth a certificate-transparency lookup (destination host, CN, SANs, -DnsName). */
  domains: string[];
}

/** What the telemetry tells about the certificate involved, as far as it was logged. */
export interface CertificateObservation {
  subject?: string;
  issuer?: string;
  subjectCommonName?: string;
  issuerCommonName?: string;
  sans?: string[];
  serialNumber?: string;
  /** Lower-case hex, no separators. */
  sha1?: string;
  sha256?: string;
  /** ISO-8601 UTC. */
  notBefore?: string;
  notAfter?: string;
  /** True when the telemetry (or a signature check) says the certificate signs itself. */
  selfSigned?: boolean;
  /** Certificate store a thumbprint was written to (T1588.004). */
  store?: string;
}

/** A detection matched one row. Produced by hunts, the HTTP endpoint and the offline workspace alike. */
export interface Hit {
  detectionId: string;
  /** Stable per detection: the same event always has the same key (dedup, idempotency). */
  key: string;
  /** Event time, ISO-8601 UTC. */
  time: string;
  /** The row as the query projected it (or the raw table row offline). */
  row: Row;
  /** Base signals from the detection's TypeScript twin, points taken from tuning. */
  signals: Signal[];
  /** Named indicator values the twin computed (IsSelfSigned, DetectionBranch, …), for cards and tests. */
  indicators: Record<string, string | number | boolean | null>;
  entities: Entities;
  certificate?: CertificateObservation;
  /** When the hit came from a Sentinel incident (automation-rule path). */
  incident?: IncidentRef;
  /** Set when this hit stands for a group of rows of one threat (shared/threats/). */
  threat?: ThreatAggregate;
}

/** One distinct source of a threat's rows (an internal host or an account) and how many rows it gave. */
export interface SourceCount {
  name: string;
  count: number;
}

/** The distinct sources of a threat, most rows first; beyond a cap they are counted, not listed. */
export interface ThreatSources {
  hosts: SourceCount[];
  accounts: SourceCount[];
  hostsOmitted: number;
  accountsOmitted: number;
}

/** What a group of rows of one threat adds to its representative hit. */
export interface ThreatAggregate {
  /** The threat's identity in words: detection, endpoint or device, certificate or command. */
  key: string;
  /** Id of the threat's incident: the same key in the same active period (a new one after a quiet period). */
  id: string;
  /** Rows the threat stands for, over its whole active period (earlier reports included). */
  occurrences: number;
  /** Event times of the threat's first and last rows. */
  firstSeen: string;
  lastSeen: string;
  sources: ThreatSources;
  /** Rows attributed to the threat without a certificate of their own (resumed TLS sessions). */
  withoutCertificate: number;
  /** Digest of the grouped hit keys: the same rows give the same digest (idempotent redelivery). */
  rowsDigest: string;
  /** Present when the threat was already reported: these rows update it. */
  update?: ThreatUpdate;
}

/** How a group of rows changes a threat that was already reported. */
export interface ThreatUpdate {
  /** When the threat was first reported (ISO). */
  firstReportedAt: string;
  /** Rows this update adds. */
  newOccurrences: number;
  previousOccurrences: number;
  previousLastSeen: string;
  /** Hosts and accounts not seen on the threat before. */
  newSources: string[];
  /** True when the change is worth telling people again (Teams): new sources, or stronger base signals. */
  material: boolean;
}

export interface IncidentRef {
  /** ARM id of the incident: /subscriptions/…/providers/Microsoft.SecurityInsights/incidents/{id} */
  armId?: string;
  incidentNumber?: number;
  title?: string;
  severity?: string;
  url?: string;
  /** Where the alert lives when it came from Splunk or QRadar, for the write-back there. */
  siem?: SiemAlertRef;
}

/** A Splunk alert (search id, and the notable event id under Splunk ES) or a QRadar offense. */
export type SiemAlertRef =
  | { kind: 'splunk'; sid: string; searchName: string; resultsLink?: string; notableEventId?: string }
  | { kind: 'qradar'; offenseId: number };

/** Names of the enrichments; a missing one is reported so the finding can be re-enriched. */
export type EnrichmentSource = 'crtsh' | 'certificate_age' | 'tls_probe';

export interface CtHistory {
  /** Registrable domain the history is for (public-suffix aware). */
  domain: string;
  /** Earliest CT entry for the registrable domain, ISO-8601 UTC. */
  firstSeen?: string;
  certificatesTotal: number;
  issuedLast7Days: number;
  issuedLast30Days: number;
  distinctIssuers: number;
  freeAcmeIssuers: string[];
  wildcardCertificates: number;
  /** Whether the certificate seen in the hit is in CT; undefined when the hit has nothing to match. */
  certificateInCt?: boolean;
  /** crt.sh stopped at its row cap; counts are lower bounds. */
  truncated: boolean;
  /** Where the answer came from, for the analyst and for tests. */
  source: 'crtsh' | 'cache';
}

export interface CertificateAge {
  /** ISO-8601 UTC of the certificate's notBefore. */
  notBefore?: string;
  notAfter?: string;
  ageDays?: number;
  /** Which source gave the dates. */
  from: 'log' | 'ct' | 'tls_probe';
  /** The event time the age is measured at (the threat's first row), ISO-8601 UTC. */
  asOf?: string;
}

export interface TlsProbeResult {
  host: string;
  port: number;
  address?: string;
  chain: Array<{
    subject: string;
    issuer: string;
    sans: string[];
    notBefore: string;
    notAfter: string;
    sha256: string;
    serialNumber: string;
  }>;
  /** Leaf signature verifies with its own public key and subject equals issuer. */
  selfSigned: boolean;
  authorized: boolean;
  authorizationError?: string;
}

export interface MissingEnrichment {
  source: EnrichmentSource;
  reason: string;
  /** True when a later run should try again (outage), false when it can never succeed (no input). */
  retryable: boolean;
}

/** Everything enrichment adds to a hit. */
export interface Enrichment {
  /** CT history of the primary registrable domain: the destination host's, else the first one the certificate names. */
  ct?: CtHistory;
  /** CT histories of the other registrable domains the certificate names (CN/SANs), one per domain, never `ct`'s. */
  ctOtherDomains?: CtHistory[];
  /**
   * Whether the hit's certificate is in CT, over every lookup that could have found it (fingerprint,
   * serial/issuer in each history): true when one found it; false only when every one of them ran to
   * completion and none did; absent when nothing could tell (no lookup, a failed or truncated one).
   */
  certificateInCt?: boolean;
  /** Where it was found: "fingerprint" and/or the registrable domains whose CT history holds it. */
  certificateFoundIn?: string[];
  /** crt.sh lookup of a fingerprint (T1588.004 thumbprints). */
  ctCertificate?: {
    found: boolean;
    subject?: string;
    issuer?: string;
    notBefore?: string;
    notAfter?: string;
    selfSigned?: boolean;
    crtshId?: string;
  };
  certificateAge?: CertificateAge;
  tlsProbe?: TlsProbeResult;
  missing: MissingEnrichment[];
  enrichedAt: string;
}

export interface Suppression {
  /** Id of the suppression rule in the tuning document. */
  rule: string;
  reason: string;
}

export interface Score {
  score: number;
  level: Level;
  reasons: Signal[];
  suppressedBy?: Suppression;
}

/** A scored threat (or single hit), ready for delivery. */
export interface Finding extends Score {
  /** Stable: derived from the threat id and its rows (or the hit key), so a redelivery yields the same finding id. */
  id: string;
  /** The threat's incident id: every update of one threat carries the same one. */
  threatId: string;
  /** The threat's identity in words (detection, endpoint or device, certificate or command). */
  threatKey: string;
  /** Rows the finding stands for, and the event times of the first and last. */
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
  sources: ThreatSources;
  /** Present when the finding updates a threat already reported (no new incident). */
  update?: ThreatUpdate;
  hit: Hit;
  enrichment: Enrichment;
  scoredAt: string;
}
