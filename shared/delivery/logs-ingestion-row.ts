import { sentinelTactic } from '../detections/sentinel-tactics.js';
import type { Finding } from '../model.js';
import { redact } from '../redact.js';
import { escapeHtml } from '../text/escape.js';
import { detectionInfo } from './detection-info.js';
import { findingTitle } from './incident.js';

/**
 * The one contract between the code that sends findings to Sentinel (hunts mode), the custom
 * table that stores them and the data collection rule that routes them: FINDINGS_COLUMNS. The
 * generator (scripts/generate-infra-artifacts.ts) writes the table schema and the DCR stream
 * declaration from it; findingRow() builds exactly these columns; test/shared/delivery checks
 * all three agree.
 *
 * Column types are the Log Analytics table types (Tables - Create Or Update, "Column" object:
 * string, int, long, real, boolean, dateTime, guid, dynamic); the DCR stream declaration spells
 * dateTime as "datetime" (Data Collection Rules - "ColumnDefinition" type).
 */

export const FINDINGS_TABLE = 'CertsoarFindings_CL';
/** A DCR stream declaration for a custom table must be named "Custom-<table>". */
export const FINDINGS_STREAM = `Custom-${FINDINGS_TABLE}`;

export type TableColumnType = 'string' | 'int' | 'long' | 'real' | 'boolean' | 'dateTime' | 'dynamic';

export interface TableColumn {
  name: string;
  type: TableColumnType;
  description: string;
}

/** Sentinel's limits on alert text (Customize alert details: name 256, description 5,000 characters). */
export const ALERT_TITLE_MAX = 256;
export const ALERT_DESCRIPTION_MAX = 5_000;
/** Every other text column is cut to this, so one row stays far below the API's 1 MB per call. */
export const ROW_TEXT_MAX = 4_000;

export const FINDINGS_COLUMNS: readonly TableColumn[] = [
  { name: 'TimeGenerated', type: 'dateTime', description: 'When certsoar sent the row (the finding was scored)' },
  { name: 'FindingId', type: 'string', description: 'certsoar finding id' },
  { name: 'ThreatId', type: 'string', description: 'Threat the finding is about; updates of a threat carry the same id' },
  { name: 'ThreatKey', type: 'string', description: 'The threat in words: detection, endpoint or device, certificate or command' },
  { name: 'IsUpdate', type: 'boolean', description: 'True when the row updates a threat already reported (it joins that incident)' },
  { name: 'DetectionId', type: 'string', description: 'ATT&CK sub-technique id of the detection' },
  { name: 'DetectionTitle', type: 'string', description: 'Title of the detection' },
  { name: 'Title', type: 'string', description: 'Alert title (HTML-escaped, at most 256 characters)' },
  { name: 'Description', type: 'string', description: 'Alert description (HTML-escaped, at most 5,000 characters)' },
  { name: 'Severity', type: 'string', description: 'Sentinel severity from the certsoar level' },
  { name: 'Score', type: 'real', description: 'certsoar score' },
  { name: 'Reasons', type: 'string', description: 'One line per scoring reason: points and reason' },
  { name: 'ReasonIds', type: 'dynamic', description: 'Ids of the scoring signals' },
  { name: 'Tactics', type: 'string', description: 'Sentinel tactic names, comma-separated' },
  { name: 'Techniques', type: 'string', description: 'ATT&CK technique ids, comma-separated' },
  { name: 'Occurrences', type: 'int', description: 'Rows (events) the finding stands for' },
  { name: 'FirstSeen', type: 'dateTime', description: 'Earliest event time of the threat' },
  { name: 'LastSeen', type: 'dateTime', description: 'Latest event time of the threat' },
  { name: 'Sources', type: 'dynamic', description: 'Distinct internal hosts and accounts of the threat\'s rows, with counts' },
  { name: 'CertificateSubject', type: 'string', description: 'Certificate subject' },
  { name: 'CertificateIssuer', type: 'string', description: 'Certificate issuer' },
  { name: 'CertificateSans', type: 'string', description: 'Certificate subject alternative names, comma-separated' },
  { name: 'CertificateThumbprint', type: 'string', description: 'SHA-1 (else SHA-256) of the certificate, lower-case hex' },
  { name: 'CertificateNotBefore', type: 'dateTime', description: 'Certificate validity start' },
  { name: 'HostFullName', type: 'string', description: 'Endpoint: fully qualified name' },
  { name: 'HostName', type: 'string', description: 'Endpoint: host name (first label)' },
  { name: 'HostDnsDomain', type: 'string', description: 'Endpoint: DNS domain (after the first label)' },
  { name: 'AccountName', type: 'string', description: 'Account name' },
  { name: 'AccountDomain', type: 'string', description: 'Account NT domain' },
  { name: 'AccountSid', type: 'string', description: 'Account SID' },
  { name: 'SourceIP', type: 'string', description: 'Client address' },
  { name: 'DestinationIP', type: 'string', description: 'Server address' },
  { name: 'DestinationPort', type: 'int', description: 'Server port' },
  { name: 'DestinationHost', type: 'string', description: 'Server name (SNI-derived host)' },
  { name: 'Url', type: 'string', description: 'URL of the server or download' },
  { name: 'ProcessCommandLine', type: 'string', description: 'Command line of the process involved' },
  { name: 'ProcessId', type: 'string', description: 'Process id' },
  { name: 'ProcessCreationTime', type: 'dateTime', description: 'Process creation time' },
  { name: 'RegistryHive', type: 'string', description: 'Registry hive (HKEY_LOCAL_MACHINE, HKEY_USERS, ...)' },
  { name: 'RegistryKey', type: 'string', description: 'Registry key below the hive' },
  { name: 'FileHashAlgorithm', type: 'string', description: 'SHA1 or SHA256' },
  { name: 'FileHashValue', type: 'string', description: 'File hash' },
  { name: 'EnrichmentMissing', type: 'string', description: 'Enrichments that could not run, comma-separated' },
];

export type FindingRow = Record<string, string | number | boolean | string[] | object | null>;

/** Fields the threats work adds to a finding; absent until it lands (fallbacks below). */
interface ThreatFields {
  threatId?: string;
  threatKey?: string;
  occurrences?: number;
  firstSeen?: string;
  lastSeen?: string;
  sources?: object;
  update?: object;
}

/** The row findingRow() sends for one finding: every FINDINGS_COLUMNS name, no other. */
export function findingRow(finding: Finding): FindingRow {
  const threat = finding as Finding & ThreatFields;
  const detection = detectionInfo(finding.hit.detectionId);
  const e = finding.hit.entities;
  const cert = finding.hit.certificate;
  const host = hostParts(e.host);
  const registry = registryParts(e.registryKey);
  const process = processFields(finding.hit.row);
  const hash = e.fileHashSha256 ? { algorithm: 'SHA256', value: e.fileHashSha256 } : e.fileHashSha1 ? { algorithm: 'SHA1', value: e.fileHashSha1 } : undefined;
  const techniqueParents = detection.technique ? [detection.technique.id.split('.')[0] ?? detection.technique.id] : [];
  return {
    TimeGenerated: finding.scoredAt,
    FindingId: finding.id,
    ThreatId: threat.threatId ?? finding.id,
    ThreatKey: optText(threat.threatKey),
    IsUpdate: threat.update !== undefined,
    DetectionId: detection.id,
    DetectionTitle: text(detection.title),
    Title: alertText(`${threat.update ? 'Update: ' : ''}${findingTitle(finding, `certsoar ${detection.id} ${detection.title}`)}`, ALERT_TITLE_MAX),
    Description: alertText(describe(finding), ALERT_DESCRIPTION_MAX),
    Severity: finding.level,
    Score: finding.score,
    Reasons: text(finding.reasons.map((r) => `${r.points} ${r.reason}`).join('\n')),
    ReasonIds: finding.reasons.map((r) => r.id),
    Tactics: sentinelTactics(detection.tactics),
    Techniques: techniqueParents.join(','),
    Occurrences: threat.occurrences ?? 1,
    FirstSeen: dateOrNull(threat.firstSeen ?? finding.hit.time),
    LastSeen: dateOrNull(threat.lastSeen ?? finding.hit.time),
    Sources: threat.sources ?? null,
    CertificateSubject: optText(cert?.subject ?? cert?.subjectCommonName),
    CertificateIssuer: optText(cert?.issuer ?? cert?.issuerCommonName),
    CertificateSans: optText(cert?.sans?.join(',')),
    CertificateThumbprint: optText(cert?.sha1 ?? cert?.sha256),
    CertificateNotBefore: dateOrNull(cert?.notBefore ?? finding.enrichment.certificateAge?.notBefore),
    HostFullName: optText(host?.fullName),
    HostName: optText(host?.hostName),
    HostDnsDomain: optText(host?.dnsDomain),
    AccountName: optText(accountParts(e.account).name),
    AccountDomain: optText(accountParts(e.account).domain ?? column(finding.hit.row, ['AccountDomain', 'InitiatingProcessAccountDomain'])),
    AccountSid: optText(column(finding.hit.row, ['AccountSid', 'InitiatingProcessAccountSid'])),
    SourceIP: optText(e.sourceIp),
    DestinationIP: optText(e.destinationIp),
    DestinationPort: e.destinationPort ?? null,
    DestinationHost: optText(e.destinationHost),
    Url: optText(e.url ?? (e.destinationHost ? `https://${e.destinationHost}${e.destinationPort && e.destinationPort !== 443 ? `:${e.destinationPort}` : ''}/` : undefined)),
    ProcessCommandLine: optText(e.commandLine),
    ProcessId: process.id,
    ProcessCreationTime: process.creationTime,
    RegistryHive: optText(registry?.hive),
    RegistryKey: optText(registry?.key),
    FileHashAlgorithm: hash?.algorithm ?? null,
    FileHashValue: hash?.value ?? null,
    EnrichmentMissing: optText(finding.enrichment.missing.map((m) => m.source).join(',')),
  };
}

function describe(finding: Finding): string {
  const lines = [
    `certsoar scored this ${finding.level} (${finding.score}).`,
    ...finding.reasons.slice(0, 20).map((r) => `+${r.points} ${r.reason}`),
  ];
  const missing = finding.enrichment.missing.map((m) => `${m.source}: ${m.reason}`);
  if (missing.length > 0) lines.push(`Missing enrichment: ${missing.join('; ')}`);
  return lines.join('\n');
}

function sentinelTactics(tactics: readonly string[]): string {
  const names = new Set<string>();
  for (const t of tactics) {
    try {
      names.add(sentinelTactic(t));
    } catch {
      // An unknown tactic name is left out; the rule's own tactics still apply.
    }
  }
  return [...names].join(',');
}

/**
 * Sentinel renders alert text in the portal: markup in adversary-controlled names must stay text.
 * Cut after escaping so the limit holds for what the portal receives; never cut inside an entity.
 */
export function alertText(value: string, max: number): string {
  const escaped = escapeHtml(redact(value));
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

function text(value: string): string {
  const clean = redact(value);
  return clean.length > ROW_TEXT_MAX ? `${clean.slice(0, ROW_TEXT_MAX - 1)}…` : clean;
}

function optText(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : text(value);
}

function dateOrNull(value: string | undefined): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function column(row: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = row[n];
    if (v !== undefined && v !== null && String(v).trim() !== '') return String(v).trim();
  }
  return undefined;
}

/** "web01.contoso.com" → web01 / contoso.com; an address or a single label has no domain. */
export function hostParts(host: string | undefined): { fullName: string; hostName: string; dnsDomain?: string } | undefined {
  if (!host) return undefined;
  const name = host.trim().replace(/\.+$/, '');
  const dot = name.indexOf('.');
  if (dot <= 0 || /^[\d.]+$/.test(name) || name.includes(':')) return { fullName: name, hostName: name };
  return { fullName: name, hostName: name.slice(0, dot), dnsDomain: name.slice(dot + 1) };
}

/** "CONTOSO\alice" or "alice@contoso.com" → name and domain. */
export function accountParts(account: string | undefined): { name?: string; domain?: string } {
  if (!account) return {};
  const back = account.indexOf('\\');
  if (back > 0) return { domain: account.slice(0, back), name: account.slice(back + 1) };
  const at = account.lastIndexOf('@');
  if (at > 0) return { name: account.slice(0, at), domain: account.slice(at + 1) };
  return { name: account };
}

/** Sentinel's RegistryKey entity wants the hive apart from the key (hive names as the entity reference spells them). */
const HIVES: ReadonlyArray<[RegExp, string]> = [
  [/^(?:HKEY_LOCAL_MACHINE|HKLM|\\REGISTRY\\MACHINE)\\/i, 'HKEY_LOCAL_MACHINE'],
  [/^(?:HKEY_CURRENT_USER|HKCU)\\/i, 'HKEY_CURRENT_USER'],
  [/^(?:HKEY_USERS|HKU|\\REGISTRY\\USER)\\/i, 'HKEY_USERS'],
  [/^(?:HKEY_CLASSES_ROOT|HKCR)\\/i, 'HKEY_CLASSES_ROOT'],
  [/^(?:HKEY_CURRENT_CONFIG|HKCC)\\/i, 'HKEY_CURRENT_CONFIG'],
];

export function registryParts(path: string | undefined): { hive?: string; key: string } | undefined {
  if (!path) return undefined;
  for (const [pattern, hive] of HIVES) {
    const m = pattern.exec(path);
    if (m) return { hive, key: path.slice(m[0].length) };
  }
  return { key: path };
}

function processFields(row: Record<string, unknown>): { id: string | null; creationTime: string | null } {
  const id = column(row, ['ProcessId', 'InitiatingProcessId']);
  const created = column(row, ['ProcessCreationTime', 'InitiatingProcessCreationTime']);
  return { id: id ?? null, creationTime: dateOrNull(created) };
}
