import { createHash } from 'node:crypto';
import { ALERT_TITLE_MAX, FINDINGS_COLUMNS, FINDINGS_TABLE } from '../delivery/logs-ingestion-row.js';
import { parseDuration } from '../duration.js';
import { sentinelTactic } from './sentinel-tactics.js';
import type { Detection } from './types.js';

/**
 * Microsoft Sentinel analytics-rule metadata, in one place: the Bicep artifacts
 * (scripts/generate-infra-artifacts.ts) and `certsoar export --format sentinel` both take their
 * rules from here.
 *
 * - hunts mode: ONE near-real-time rule over CertsoarFindings_CL (findingsRule). Each row is an
 *   alert; alerts with the same ThreatId custom detail are grouped into one incident, so an update
 *   of a known threat (a new row, same ThreatId) lands in the incident already open.
 * - rules mode: one scheduled rule per detection (detectionRule()). Each run queries exactly one
 *   frequency window by ingestion_time() (the KQL compiler's rule form) inside a queryPeriod of
 *   frequency + RULE_INGESTION_MARGIN, as Microsoft's "Handle ingestion delay in scheduled
 *   analytics rules" describes; alerts of one threat (CertsoarThreatKey) are grouped into one
 *   incident.
 *
 * Field names and limits: Microsoft.SecurityInsights alertRules REST API (Scheduled / NRT
 * properties), "Map data fields to entities in Microsoft Sentinel" (at most 10 mappings, 3
 * identifiers each), "Surface custom event details in alerts" (at most 20 custom details),
 * "Customize alert details" (alertDetailsOverride, alertDynamicProperties).
 */

export interface FieldMapping {
  identifier: string;
  columnName: string;
}

export interface EntityMapping {
  entityType: string;
  fieldMappings: FieldMapping[];
}

export interface GroupingConfiguration {
  enabled: boolean;
  reopenClosedIncident: boolean;
  lookbackDuration: string;
  matchingMethod: 'AllEntities' | 'AnyAlert' | 'Selected';
  groupByEntities: string[];
  groupByAlertDetails: string[];
  groupByCustomDetails: string[];
}

export interface AlertDetailsOverride {
  alertDisplayNameFormat: string;
  alertDescriptionFormat: string;
  alertSeverityColumnName?: string;
  alertTacticsColumnName?: string;
  alertDynamicProperties: Array<{ alertProperty: string; value: string }>;
}

export interface SentinelRule {
  /** Stable GUID: the rule's resource name and the Azure-Sentinel YAML id. */
  id: string;
  /** certsoar's own key: a detection id, or "findings". */
  key: string;
  kind: 'Scheduled' | 'NRT';
  displayName: string;
  description: string;
  severity: 'Informational' | 'Low' | 'Medium' | 'High';
  tables: string[];
  requiredDataConnectors: Array<{ connectorId: string; dataTypes: string[] }>;
  /** ISO 8601; absent for NRT rules (they run every minute over what was ingested since). */
  queryFrequency?: string;
  queryPeriod?: string;
  triggerOperator: 'GreaterThan';
  triggerThreshold: number;
  tactics: string[];
  techniques: string[];
  subTechniques: string[];
  query: string;
  entityMappings: EntityMapping[];
  customDetails: Record<string, string>;
  alertDetailsOverride: AlertDetailsOverride;
  eventGroupingSettings: { aggregationKind: 'AlertPerResult' };
  incidentConfiguration: { createIncident: boolean; groupingConfiguration: GroupingConfiguration };
  version: string;
}

/** Sentinel's caps. */
export const MAX_ENTITY_MAPPINGS = 10;
export const MAX_IDENTIFIERS_PER_MAPPING = 3;
export const MAX_CUSTOM_DETAILS = 20;
/** Alerts of a threat join its incident within this long (the longest grouping window Sentinel offers). */
export const THREAT_GROUPING_LOOKBACK = 'P7D';
/** Rules mode: how late a row may arrive (TimeGenerated to ingestion) and still be seen by exactly one run. */
export const RULE_INGESTION_MARGIN = '1h';
export const RULE_VERSION = '1.0.0';

const MINUTE = 60_000;

/** "15m" → "PT15M", "75m" → "PT1H15M", "1d" → "P1D" (the ISO 8601 durations analytics rules take). */
export function isoDuration(text: string): string {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms % MINUTE !== 0) throw new Error(`"${text}" is not a whole number of minutes`);
  const minutes = ms / MINUTE;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const time = `${hours ? `${hours}H` : ''}${rest ? `${rest}M` : ''}`;
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

/** A GUID from a name (SHA-1, version 5 layout), so a rule keeps its id across deployments. */
export function stableGuid(name: string): string {
  const h = createHash('sha1').update(`certsoar-analytics-rule:${name}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// hunts mode: the findings rule

/** Every entity of a finding row (FINDINGS_COLUMNS), at most 10 mappings of at most 3 identifiers. */
const FINDINGS_ENTITIES: EntityMapping[] = [
  entity('Host', ['FullName', 'HostFullName'], ['HostName', 'HostName'], ['DnsDomain', 'HostDnsDomain']),
  entity('Account', ['Name', 'AccountName'], ['NTDomain', 'AccountDomain'], ['Sid', 'AccountSid']),
  entity('IP', ['Address', 'SourceIP']),
  entity('IP', ['Address', 'DestinationIP']),
  entity('DNS', ['DomainName', 'DestinationHost']),
  entity('URL', ['Url', 'Url']),
  entity('Process', ['ProcessId', 'ProcessId'], ['CommandLine', 'ProcessCommandLine'], ['CreationTimeUtc', 'ProcessCreationTime']),
  entity('RegistryKey', ['Hive', 'RegistryHive'], ['Key', 'RegistryKey']),
  entity('FileHash', ['Algorithm', 'FileHashAlgorithm'], ['Value', 'FileHashValue']),
];

const FINDINGS_CUSTOM_DETAILS: Record<string, string> = {
  ThreatId: 'ThreatId',
  ThreatKey: 'ThreatKey',
  IsUpdate: 'IsUpdate',
  FindingId: 'FindingId',
  DetectionId: 'DetectionId',
  Score: 'Score',
  Reasons: 'Reasons',
  Occurrences: 'Occurrences',
  FirstSeen: 'FirstSeen',
  LastSeen: 'LastSeen',
  Sources: 'Sources',
  CertSubject: 'CertificateSubject',
  CertIssuer: 'CertificateIssuer',
  CertSANs: 'CertificateSans',
  CertThumbprint: 'CertificateThumbprint',
  CertNotBefore: 'CertificateNotBefore',
  EnrichmentMissing: 'EnrichmentMissing',
};

/** The findings rule's query: every column of the table, newest first; the NRT engine slices by ingestion. */
export function findingsRuleQuery(): string {
  return [`${FINDINGS_TABLE}`, `| project ${FINDINGS_COLUMNS.map((c) => c.name).join(', ')}`].join('\n');
}

/** The findings rule; its tactics and techniques are those of the detections whose findings it raises. */
export function findingsRule(detections: readonly Detection[]): SentinelRule {
  const techniques = [...new Set(detections.map((d) => d.meta.technique.id.split('.')[0] ?? d.meta.technique.id))];
  const subTechniques = [...new Set(detections.map((d) => d.meta.technique.id).filter((t) => t.includes('.')))];
  return {
    id: stableGuid('findings'),
    key: 'findings',
    kind: 'NRT',
    displayName: 'certsoar: certificate abuse finding',
    description:
      'Raises one incident per certificate-abuse threat that certsoar\'s scheduled hunts found, enriched (certificate transparency, certificate age) and scored. Each finding is a row in CertsoarFindings_CL; updates of a known threat are new rows with the same ThreatId and join its incident.',
    severity: 'Medium',
    tables: [FINDINGS_TABLE],
    requiredDataConnectors: [],
    triggerOperator: 'GreaterThan',
    triggerThreshold: 0,
    // Every tactic and technique the detections carry; each alert narrows them to its own (Tactics, Techniques columns).
    tactics: [...new Set(detections.flatMap((d) => d.meta.tactics.map(sentinelTactic)))],
    techniques,
    subTechniques,
    query: findingsRuleQuery(),
    entityMappings: FINDINGS_ENTITIES,
    customDetails: FINDINGS_CUSTOM_DETAILS,
    alertDetailsOverride: {
      alertDisplayNameFormat: '{{Title}}',
      alertDescriptionFormat: '{{Description}}',
      alertSeverityColumnName: 'Severity',
      alertTacticsColumnName: 'Tactics',
      alertDynamicProperties: [
        { alertProperty: 'Techniques', value: 'Techniques' },
        { alertProperty: 'ProductComponentName', value: 'DetectionId' },
      ],
    },
    eventGroupingSettings: { aggregationKind: 'AlertPerResult' },
    incidentConfiguration: { createIncident: true, groupingConfiguration: groupByCustomDetail('ThreatId') },
    version: RULE_VERSION,
  };
}

// ---------------------------------------------------------------------------------------------
// rules mode: one scheduled rule per detection

/**
 * Entities a detection's rule can map, by the columns its query projects (after ruleQuerySuffix).
 * A mapping is kept when its first column is projected; its other identifiers when theirs are.
 * Order is priority.
 */
const DETECTION_ENTITY_CANDIDATES: EntityMapping[] = [
  entity('Host', ['FullName', 'DeviceName'], ['HostName', 'CertsoarHostName'], ['DnsDomain', 'CertsoarHostDnsDomain']),
  entity('Host', ['FullName', 'SourceHostName'], ['HostName', 'CertsoarHostName'], ['DnsDomain', 'CertsoarHostDnsDomain']),
  entity('IP', ['Address', 'SourceIP']),
  entity('IP', ['Address', 'DestinationIP']),
  entity('DNS', ['DomainName', 'DestinationHost']),
  entity('URL', ['Url', 'CertsoarUrl']),
  entity('Account', ['Name', 'AccountName'], ['NTDomain', 'AccountDomain'], ['Sid', 'AccountSid']),
  entity('Account', ['Name', 'InitiatingProcessAccountName'], ['NTDomain', 'InitiatingProcessAccountDomain'], ['Sid', 'InitiatingProcessAccountSid']),
  entity('Account', ['Name', 'CertsoarAccountName'], ['NTDomain', 'CertsoarAccountDomain'], ['UPNSuffix', 'CertsoarAccountUpnSuffix']),
  entity('Process', ['CommandLine', 'ProcessCommandLine'], ['ProcessId', 'ProcessId'], ['CreationTimeUtc', 'ProcessCreationTime']),
  entity('Process', ['CommandLine', 'InitiatingProcessCommandLine'], ['ProcessId', 'InitiatingProcessId'], ['CreationTimeUtc', 'InitiatingProcessCreationTime']),
  entity('RegistryKey', ['Key', 'CertsoarRegistryKey'], ['Hive', 'CertsoarRegistryHive']),
  entity('FileHash', ['Value', 'SHA1'], ['Algorithm', 'CertsoarHashAlgorithm']),
  entity('FileHash', ['Value', 'InitiatingProcessSHA1'], ['Algorithm', 'CertsoarHashAlgorithm']),
  entity('File', ['Name', 'FileName'], ['Directory', 'FolderPath']),
];

/**
 * The columns that make one threat per detection (grouped into one incident): the endpoint and
 * its certificate for T1608.003, the device and the certificate for T1588.004, the device, branch
 * and command or file for T1587.003; any other detection groups by all its entity columns.
 */
const THREAT_COLUMNS: Record<string, string[]> = {
  'T1608.003': ['DestinationIP', 'DestinationPort', 'DestinationHost', 'TLSSubject', 'TLSIssuer'],
  'T1588.004': ['DeviceName', 'CertThumbprint', 'CertStoreName'],
  'T1587.003': ['DeviceName', 'DetectionBranch', 'ProcessCommandLine', 'FolderPath', 'FileName'],
};

/**
 * Columns the rule form adds after the compiled query, for entities and grouping: the detection
 * id, the threat key, host name and domain split from the FQDN, the registry hive split from the
 * key, the hash algorithm and the URL of a TLS endpoint. Only what the query's columns allow.
 */
export function ruleQuerySuffix(detectionId: string, columns: readonly string[]): string {
  const has = new Set(columns);
  const hostColumn = ['DeviceName', 'SourceHostName'].find((c) => has.has(c));
  const threat = (THREAT_COLUMNS[detectionId] ?? []).filter((c) => has.has(c));
  const first: string[] = [`CertsoarDetectionId = "${detectionId}"`];
  first.push(`CertsoarThreatKey = strcat("${detectionId}"${threat.map((c) => `, " ", tostring(${c})`).join('')})`);
  if (hostColumn) first.push(`CertsoarHostName = extract(@"^[^.]*", 0, ${hostColumn})`);
  if (hostColumn) first.push(`CertsoarHostDnsDomain = extract(@"^[^.]*\\.(.+)$", 1, ${hostColumn})`);
  if (has.has('RegistryKey')) {
    first.push(
      `CertsoarRegistryHive = case(RegistryKey startswith @"HKEY_LOCAL_MACHINE\\", "HKEY_LOCAL_MACHINE", RegistryKey startswith @"HKEY_USERS\\", "HKEY_USERS", RegistryKey startswith @"HKEY_CURRENT_USER\\", "HKEY_CURRENT_USER", "")`,
    );
  }
  if (has.has('SHA1') || has.has('InitiatingProcessSHA1')) first.push('CertsoarHashAlgorithm = "SHA1"');
  if (has.has('SourceUserName')) {
    // CEF carries "DOMAIN\\user" or "user@domain" in one field; the Account entity wants them apart.
    first.push('CertsoarAccountName = case(SourceUserName contains "\\\\", tostring(split(SourceUserName, "\\\\")[1]), SourceUserName contains "@", tostring(split(SourceUserName, "@")[0]), SourceUserName)');
    first.push('CertsoarAccountDomain = iff(SourceUserName contains "\\\\", tostring(split(SourceUserName, "\\\\")[0]), "")');
    first.push('CertsoarAccountUpnSuffix = iff(SourceUserName contains "@", tostring(split(SourceUserName, "@")[1]), "")');
  }
  if (has.has('DestinationHost') && has.has('DestinationPort')) {
    first.push('CertsoarUrl = iff(isempty(DestinationHost), "", strcat("https://", DestinationHost, ":", tostring(DestinationPort), "/"))');
  }
  const lines = [`| extend ${first.join(',\n    ')}`];
  if (has.has('RegistryKey')) lines.push('| extend CertsoarRegistryKey = iff(isempty(CertsoarRegistryHive), RegistryKey, substring(RegistryKey, strlen(CertsoarRegistryHive) + 1))');
  lines.push(`| extend CertsoarAlertTitle = ${alertTitleExpression()}`);
  return lines.join('\n');
}

/**
 * The alert title: "certsoar " and the threat key (detection id and what the threat is),
 * HTML-escaped (the portal renders alert text; a certificate subject is adversary-controlled) and
 * cut to ALERT_TITLE_MAX. Markup needs only &, < and > escaped in text; the query stays short
 * (Sentinel counts every character against its 10,000 limit).
 */
function alertTitleExpression(): string {
  const escaped = ESCAPES.reduce((acc, [from, to]) => `replace_string(${acc}, "${from}", "${to}")`, 'CertsoarThreatKey');
  return `substring(strcat("certsoar ", ${escaped}), 0, ${ALERT_TITLE_MAX})`;
}

/** The entities shared/text/escape.ts escapeHtml writes for them; & first, so the others' are not escaped again. */
const ESCAPES: ReadonlyArray<[string, string]> = [
  ['&', '&amp;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
];

/** The columns ruleQuerySuffix adds to a query with these columns. */
export function suffixColumns(detectionId: string, columns: readonly string[]): string[] {
  return [...ruleQuerySuffix(detectionId, columns).matchAll(/(?:extend |,\n {4})(Certsoar\w+) =/g)].map((m) => m[1] as string);
}

export function detectionEntityMappings(columns: readonly string[]): EntityMapping[] {
  const projected = new Set(columns);
  const out: EntityMapping[] = [];
  for (const candidate of DETECTION_ENTITY_CANDIDATES) {
    const first = candidate.fieldMappings[0];
    if (!first || !projected.has(first.columnName)) continue;
    out.push({ entityType: candidate.entityType, fieldMappings: candidate.fieldMappings.filter((f) => projected.has(f.columnName)) });
  }
  return out.slice(0, MAX_ENTITY_MAPPINGS);
}

/** Raw columns projected only for Sentinel's entities: no signal reads them, so no custom detail carries them. */
export const ENTITY_ONLY_COLUMNS: ReadonlySet<string> = new Set([
  'ProcessId',
  'ProcessCreationTime',
  'AccountSid',
  'InitiatingProcessId',
  'InitiatingProcessCreationTime',
  'InitiatingProcessAccountSid',
]);

/** The raw columns /api/enrich needs to rebuild a hit from the alert's custom details. */
export function enrichmentColumns(detection: Detection): string[] {
  return detection.projectedColumns.filter((c) => !ENTITY_ONLY_COLUMNS.has(c));
}

/**
 * What /api/enrich needs to rebuild the hit: the raw columns the detection's evaluator reads
 * (custom detail key = column name) plus the detection id and the threat key; 20 at most.
 */
export function detectionCustomDetails(detection: Detection): Record<string, string> {
  const details: Record<string, string> = { CertsoarDetectionId: 'CertsoarDetectionId', CertsoarThreatKey: 'CertsoarThreatKey' };
  for (const column of enrichmentColumns(detection)) details[column] = column;
  if (Object.keys(details).length > MAX_CUSTOM_DETAILS) {
    throw new Error(`${detection.meta.id}: ${Object.keys(details).length} custom details; Sentinel keeps at most ${MAX_CUSTOM_DETAILS}`);
  }
  return details;
}

/**
 * The columns a query's final `| project` names (KQL text as the compilers write it: one final
 * project, items separated by top-level commas, "Name = expr" or "Name"). test/infra checks this
 * against the Kusto language service's result schema.
 */
export function projectedOutputColumns(query: string): string[] {
  const at = query.lastIndexOf('\n| project ');
  if (at < 0) return [];
  const body = query.slice(at + '\n| project '.length).split(/\n\|/)[0] ?? '';
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(' || ch === '[') depth += 1;
    if (ch === ')' || ch === ']') depth -= 1;
    if (ch === ',' && depth === 0) {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.map((i) => (i.split('=')[0] ?? '').trim()).filter((n) => /^\w+$/.test(n));
}

/**
 * The rules-mode query: the KQL compiler's rule form (one ingestion window of the rule's frequency
 * per table, rule-window.ts), then the columns entities and grouping need (ruleQuerySuffix).
 */
export function detectionRuleQuery(detection: Detection, params: Record<string, unknown>): string {
  const compiled = withoutCommentLines(detection.buildQuery(params, { frequency: detection.meta.queryFrequency, margin: RULE_INGESTION_MARGIN }));
  return `${compiled.trimEnd()}\n${ruleQuerySuffix(detection.meta.id, projectedOutputColumns(compiled))}`;
}

/** Whole-line comments go: Sentinel counts every character against its 10,000-character query limit. */
function withoutCommentLines(query: string): string {
  return query
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
}

export function detectionRule(detection: Detection, params: Record<string, unknown>): SentinelRule {
  const { meta } = detection;
  const frequencyMs = parseDuration(meta.queryFrequency);
  if (frequencyMs === undefined || frequencyMs < 5 * MINUTE || frequencyMs > 14 * 24 * 60 * MINUTE) throw new Error(`${meta.id}: queryFrequency ${meta.queryFrequency} is outside 5m..14d`);
  const marginMs = parseDuration(RULE_INGESTION_MARGIN) as number;
  const query = detectionRuleQuery(detection, params);
  const columns = projectedOutputColumns(detection.buildQuery(params));
  const allColumns = [...columns, ...suffixColumns(meta.id, columns)];
  const techniqueId = meta.technique.id;
  return {
    id: stableGuid(meta.id),
    key: meta.id,
    kind: 'Scheduled',
    displayName: `certsoar ${meta.id}: ${meta.title}`,
    description: meta.description,
    severity: meta.severity,
    tables: [...meta.tables],
    requiredDataConnectors: meta.connectors.map((connectorId) => ({ connectorId, dataTypes: [...meta.tables] })),
    queryFrequency: isoDuration(meta.queryFrequency),
    queryPeriod: isoDuration(`${(frequencyMs + marginMs) / MINUTE}m`),
    triggerOperator: 'GreaterThan',
    triggerThreshold: 0,
    tactics: [...new Set(meta.tactics.map(sentinelTactic))],
    techniques: [techniqueId.split('.')[0] ?? techniqueId],
    subTechniques: techniqueId.includes('.') ? [techniqueId] : [],
    query,
    entityMappings: detectionEntityMappings(allColumns),
    customDetails: detectionCustomDetails(detection),
    alertDetailsOverride: {
      alertDisplayNameFormat: '{{CertsoarAlertTitle}}',
      alertDescriptionFormat: meta.description.slice(0, 5000),
      alertDynamicProperties: [{ alertProperty: 'ProductComponentName', value: 'CertsoarDetectionId' }],
    },
    eventGroupingSettings: { aggregationKind: 'AlertPerResult' },
    incidentConfiguration: { createIncident: true, groupingConfiguration: groupByCustomDetail('CertsoarThreatKey') },
    version: RULE_VERSION,
  };
}

function groupByCustomDetail(detail: string): GroupingConfiguration {
  return {
    enabled: true,
    reopenClosedIncident: false,
    lookbackDuration: THREAT_GROUPING_LOOKBACK,
    matchingMethod: 'Selected',
    groupByEntities: [],
    groupByAlertDetails: [],
    groupByCustomDetails: [detail],
  };
}

function entity(entityType: string, ...fields: Array<[identifier: string, columnName: string]>): EntityMapping {
  return { entityType, fieldMappings: fields.map(([identifier, columnName]) => ({ identifier, columnName })) };
}
