import type { Tuning } from '../../scoring/tuning.js';
import { escapeRegex } from '../../kql/regex.js';
import { DETECTIONS } from '../index.js';
import type { T1587003Params } from '../definitions/t1587-003.js';
import type { T1588004Params } from '../definitions/t1588-004.js';
import type { T1608003Params } from '../definitions/t1608-003.js';
import type { Detection, QueryWindow } from '../types.js';
import { type DetectionPlan, durationMinutes, detectionPlan, levelCases, optionalList, placeholderCnRegex, translatedSignals } from './plan.js';

/**
 * AQL for IBM QRadar, from each detection's parameters and weights. AQL has no per-row
 * variables, arrays or capture-group extraction, so the certificate and process fields come from
 * custom event properties, each defined by a regex over the event payload (QRadar "Custom event
 * properties": regex with a capture group, Java syntax). The export lists every property with
 * its regex; the queries read them by their double-quoted names. MATCHES/IMATCHES are given
 * patterns anchored at both ends, so they mean the same whether QRadar matches the whole value
 * or searches in it. Strings are single-quoted with '' for a quote.
 */

export interface AqlProperty {
  name: string;
  /** Java regex; the value is capture group 1. */
  regex: string;
  description: string;
}

export interface AqlQuery {
  name: string;
  detectionId: string;
  query: string;
  properties: AqlProperty[];
  /** What AQL cannot express exactly for this detection and how the query approximates it. */
  limitations: string[];
}

export const aqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;
const aqlList = (values: readonly string[]) => values.map(aqlString).join(', ');
const prop = (name: string) => `"${name}"`;

/**
 * A property regex over `key=value` payloads for any of the keys: PAN-OS and generic CEF
 * (`PanOSCommonName=… nextKey=`), FortiOS syslog (`scertcname="…"`), Sentinel-style `;`/`|` lists.
 */
function keyValueRegex(keys: readonly string[]): string {
  return `(?:^|[\\s;|])(?:${keys.map(escapeRegex).join('|')})="?([^";|\\r\\n]*?)"?(?=\\s+[A-Za-z0-9_.-]+=|[;|\\r\\n]|$)`;
}

/** The CN inside the subject value (the whole value when it has no CN=), the rest of the DN skipped. */
function commonNameRegex(keys: readonly string[]): string {
  return `(?:^|[\\s;|])(?:${keys.map(escapeRegex).join('|')})="?(?:[^";|\\r\\n]*?CN\\\\?=)?([^,/";|\\r\\n]*?)(?:[,/][^";|\\r\\n]*?)?"?(?=\\s+[A-Za-z0-9_.-]+=|[;|\\r\\n]|$)`;
}

/** FortiOS syslog names for the same fields (FortiOS Log Message Reference): QRadar reads the raw syslog, not Sentinel's prefixed names. */
const FORTIOS_SUBJECT = ['scertcname'];
const FORTIOS_ISSUER = ['scertissuer'];
/** CEF `act` (ArcSight CEF implementation standard), FortiOS `action`, Sentinel's DeviceAction. */
const ACTION_KEYS = ['act', 'action', 'DeviceAction'];
/** `NOT (x IN list)` that keeps rows where x is null (SQL's NOT (NULL IN …) is not true). */
const notInOrNull = (expr: string, prop: string, values: readonly string[]) => `(${prop} IS NULL OR NOT (${expr} IN (${aqlList(values)})))`;

function scoreParts(plan: DetectionPlan<unknown>, conditions: Record<string, string>): { score: string; columns: string[]; untranslated: string[] } {
  const { signals, untranslated } = translatedSignals(plan, 'AQL', conditions);
  const parts = signals.map((s) => `CASE WHEN ${s.condition} THEN ${s.weight} ELSE 0 END`);
  return {
    score: `(${parts.length ? parts.join(' + ') : '0'})`,
    columns: signals.map((s, i) => `${parts[i]} AS 'signal_${s.id}'`),
    untranslated,
  };
}

function levelExpr(plan: DetectionPlan<unknown>, score: string): string {
  return `CASE ${levelCases(plan.levels)
    .map((l) => `WHEN ${score} >= ${l.min} THEN ${aqlString(l.level)}`)
    .join(' ')} ELSE 'Informational' END`;
}

/**
 * The slice as AQL: START/STOP bound the Ariel partitions read, at minute granularity in UTC
 * (IBM AQL reference, "Time criteria in AQL queries": 'yyyy-MM-dd HH:mm' with a 'Z' suffix for
 * UTC; START drops the seconds, STOP includes its whole minute), and an exact epoch guard on
 * starttime (when QRadar received the event, its ingestion time) makes the slice half-open.
 */
export function arielWindow(window: { start: Date; end: Date }): { guard: string; startStop: string } {
  const minute = (d: Date) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)}Z`;
  return {
    guard: `starttime >= ${window.start.getTime()} AND starttime < ${window.end.getTime()}`,
    startStop: `START '${minute(window.start)}' STOP '${minute(window.end)}'`,
  };
}

/**
 * How a query ends: ORDER BY and its time range. A scheduled rule looks back one interval (LAST n
 * MINUTES); a hunt slice is exact: an epoch guard on starttime (when QRadar received the event,
 * the ingestion time the other SIEMs slice on) plus START/STOP around it (arielWindow).
 */
function orderAndWindow(plan: DetectionPlan<unknown>, slice: QueryWindow | undefined, offenseId?: number): string[] {
  const offense = offenseId === undefined ? [] : [`  AND INOFFENSE(${Math.trunc(offenseId)})`];
  if (!slice) return [...offense, 'ORDER BY devicetime DESC', `LAST ${durationMinutes(plan.detection.meta.queryFrequency)} MINUTES`];
  const w = arielWindow(slice);
  return [...offense, `  AND ${w.guard}`, 'ORDER BY devicetime DESC', w.startStop];
}

// ---- T1608.003 -------------------------------------------------------------------------------

function t1608003(plan: DetectionPlan<T1608003Params>, slice?: QueryWindow, offenseId?: number): AqlQuery {
  const p = plan.params;
  const properties: AqlProperty[] = [
    { name: 'TLS Subject', regex: keyValueRegex([...p.subjectKeys, ...FORTIOS_SUBJECT]), description: 'Server certificate subject (PAN-OS decryption log, FortiOS scertcname, CEF ssl_subject and the tuning subjectKeys).' },
    { name: 'TLS Subject CN', regex: commonNameRegex([...p.subjectKeys, ...FORTIOS_SUBJECT]), description: 'The CN of the subject (the whole value when it has no CN=).' },
    { name: 'TLS Issuer', regex: keyValueRegex([...p.issuerKeys, ...FORTIOS_ISSUER]), description: 'Server certificate issuer (tuning issuerKeys).' },
    { name: 'TLS SNI', regex: keyValueRegex(p.sniKeys), description: 'Server name the client asked for (tuning sniKeys).' },
    { name: 'Device Action', regex: keyValueRegex(ACTION_KEYS), description: 'What the firewall did with the session (CEF act, FortiOS action, Sentinel DeviceAction).' },
  ];
  const verdicts = deviceVerdicts(p, properties);
  const placeholder = placeholderCnRegex(p.placeholderCnNames, p.placeholderCnWords);
  const subject = prop('TLS Subject');
  const cn = prop('TLS Subject CN');
  const issuer = prop('TLS Issuer');
  const host = `LOWER(${prop('TLS SNI')})`;
  const present = (x: string) => `(${x} IS NOT NULL AND STRLEN(${x}) > 0)`;
  const { score, columns, untranslated } = scoreParts(plan, {
    self_signed: `${present(subject)} AND ${present(issuer)} AND LOWER(${subject}) = LOWER(${issuer})`,
    // Conservative: compares the CN only (no SAN property), and never fires for a wildcard CN.
    hostname_mismatch: `${present(cn)} AND ${host} IMATCHES ${aqlString('^(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*\\.[a-z][a-z0-9-]*$')} AND NOT (${cn} ILIKE '*%') AND LOWER(${cn}) <> ${host}`,
    ...verdicts.signals,
    placeholder_cn: placeholder ? `${present(cn)} AND ${cn} IMATCHES ${aqlString(`^(?:${placeholder.replace(/\(\?:\^\|\[\^a-z0-9\]\)/, '(?:^|.*[^a-z0-9])').replace(/\(\?:\[\^a-z0-9\]\|\$\)$/, '(?:[^a-z0-9].*|$)')})$`)}` : '1 = 0',
  });
  const allow = [
    ...(p.allowedIssuers.length ? [notInOrNull(`LOWER(${issuer})`, issuer, p.allowedIssuers.map((x) => x.toLowerCase()))] : []),
    ...(p.allowedDestinationHosts.length ? [notInOrNull(host, prop('TLS SNI'), p.allowedDestinationHosts.map((x) => x.toLowerCase()))] : []),
  ];
  const query = [
    `SELECT DATEFORMAT(devicetime, 'yyyy-MM-dd HH:mm:ss') AS 'EventTime', LOGSOURCENAME(logsourceid) AS 'LogSource', sourceip, destinationip, destinationport,`,
    `  ${[subject, cn, issuer, prop('TLS SNI'), ...(verdicts.present.length ? [prop('TLS Verdict'), prop('TLS Certificate Status')] : [])].join(', ')},`,
    `  ${columns.join(',\n  ')},`,
    `  ${score} AS 'CertRiskScore', ${levelExpr(plan, score)} AS 'CertRiskLevel'`,
    'FROM events',
    `WHERE destinationport IN (${p.tlsPorts.join(', ')})`,
    `  AND (${[present(subject), present(issuer), ...verdicts.present].join(' OR ')})`,
    ...(p.excludedActions.length ? [`  AND ${notInOrNull(`LOWER(${prop('Device Action')})`, prop('Device Action'), p.excludedActions.map((a) => a.toLowerCase()))}`] : []),
    `  AND ${score} > ${plan.minScore}`,
    ...allow.map((a) => `  AND ${a}`),
    ...orderAndWindow(plan, slice, offenseId),
  ].join('\n');
  return {
    name: `certsoar ${plan.detection.meta.id}`,
    detectionId: plan.detection.meta.id,
    query,
    properties,
    limitations: [
      ...untranslated,
      'The AQL published on the QRadar reference page scores URL strings in the payload and has no TLS certificate logic; this query replaces it.',
      'hostname_mismatch: AQL has no arrays, so the certificate\'s SAN list cannot be searched and a wildcard CN cannot be matched label by label. The query compares the SNI with the subject CN only and never fires for a wildcard CN: it misses mismatches hidden behind a wildcard, and it flags a certificate whose SANs (but not its CN) cover the host.',
      'Blocked sessions: excludedActions are compared with the "Device Action" property (exact, lower case); events without it are kept.',
      'Each run covers the schedule interval (LAST n MINUTES), not the 24h lookback of the Sentinel rule.',
    ],
  };
}

/**
 * The device's own verdict on the chain (PAN-OS Chain/Root Status, Zeek validation_status, the
 * FortiGate message's "certificate-status: …"), when the definition has verdict parameters.
 */
function deviceVerdicts(p: T1608003Params, properties: AqlProperty[]): { signals: Record<string, string>; present: string[] } {
  const keys = optionalList(p, 'verdictKeys');
  if (!keys?.length) return { signals: {}, present: [] };
  properties.push(
    { name: 'TLS Verdict', regex: keyValueRegex(keys), description: 'The device\'s verdict on the certificate chain (tuning verdictKeys).' },
    { name: 'TLS Certificate Status', regex: '(?i)certificate-status:[ \\t]*([a-z][a-z -]*[a-z])', description: 'FortiGate ssl-anomaly message: certificate-status: <verdict>.' },
  );
  const verdict = prop('TLS Verdict');
  const status = prop('TLS Certificate Status');
  const isOneOf = (values: readonly string[]) =>
    values.length ? `(LOWER(${verdict}) IN (${aqlList(values.map((v) => v.toLowerCase()))}) OR LOWER(${status}) IN (${aqlList(values.map((v) => v.toLowerCase()))}))` : '1 = 0';
  const signals: Record<string, string> = {};
  const untrusted = optionalList(p, 'untrustedVerdicts');
  const expired = optionalList(p, 'expiredVerdicts');
  if (untrusted) signals['device_untrusted'] = isOneOf(untrusted);
  if (expired) signals['device_expired'] = isOneOf(expired);
  return { signals, present: [`${verdict} IS NOT NULL`, `${status} IS NOT NULL`] };
}

// ---- Windows / Sysmon ------------------------------------------------------------------------

/** Sysmon fields as WinCollect/the Windows DSM log them (`Name: value` or `Name=value`, tab separated). */
function sysmonProperty(name: string): AqlProperty {
  return { name, regex: `(?:^|\\s)${name}[=:]\\s*(.+?)(?=\\t|\\s{2,}|\\s[A-Za-z]+[=:]|$)`, description: `Sysmon ${name}` };
}

function t1588004(plan: DetectionPlan<T1588004Params>, slice?: QueryWindow, offenseId?: number): AqlQuery {
  const p = plan.params;
  const key = `LOWER(${prop('TargetObject')})`;
  const image = `LOWER(${prop('Image')})`;
  const stores = p.stores.map((s) => escapeRegex(s.toLowerCase())).join('|');
  const hive = '(hklm|hkey_local_machine|hkcu|hkey_current_user|hku\\\\[^\\\\]+|hkey_users\\\\[^\\\\]+)';
  const storeRe = (store: string) => `^${hive}\\\\software\\\\(wow6432node\\\\)?(policies\\\\)?microsoft\\\\(systemcertificates|enterprisecertificates)\\\\(${store})(\\\\.*)?$`;
  const endsWithAny = (names: readonly string[]) => `${image} IMATCHES ${aqlString(`^(.*\\\\)?(${names.map((n) => escapeRegex(n.toLowerCase())).join('|')})$`)}`;
  const { score, columns, untranslated } = scoreParts(plan, {
    root_store_write: `${key} IMATCHES ${aqlString(storeRe('root|authroot'))}`,
    intermediate_store_write: `${key} IMATCHES ${aqlString(storeRe('ca'))}`,
    script_host_writer: endsWithAny(p.scriptHosts),
    user_or_policy_store: `${key} IMATCHES ${aqlString('^(hkcu|hkey_current_user|hku|hkey_users|.*\\\\policies\\\\|.*\\\\enterprisecertificates\\\\).*$')}`,
  });
  const query = [
    `SELECT DATEFORMAT(devicetime, 'yyyy-MM-dd HH:mm:ss') AS 'EventTime', LOGSOURCENAME(logsourceid) AS 'LogSource', username, ${prop('Image')}, ${prop('TargetObject')},`,
    `  ${columns.join(',\n  ')},`,
    `  ${score} AS 'CertRiskScore', ${levelExpr(plan, score)} AS 'CertRiskLevel'`,
    'FROM events',
    `WHERE ${prop('EventID')} IN ('12', '13')`,
    `  AND ${key} IMATCHES ${aqlString(storeRe(stores))}`,
    `  AND (${prop('Image')} IS NULL OR NOT (${endsWithAny(p.approvedProcesses)}))`,
    ...(p.allowedThumbprints.length ? [`  AND NOT (${key} IMATCHES ${aqlString(`^.*\\\\certificates\\\\(${p.allowedThumbprints.map((t) => t.toLowerCase()).join('|')})(\\\\.*)?$`)})`] : []),
    `  AND ${score} > ${plan.minScore}`,
    ...orderAndWindow(plan, slice, offenseId),
  ].join('\n');
  return {
    name: `certsoar ${plan.detection.meta.id}`,
    detectionId: plan.detection.meta.id,
    query,
    properties: ['EventID', 'Image', 'TargetObject'].map(sysmonProperty),
    limitations: [
      ...untranslated,
      'Reads Sysmon EventID 12/13 through custom properties (EventID, Image, TargetObject); Windows Security 4657 events need the same properties mapped.',
      'The writer is matched by the file name at the end of Image (Sysmon has no separate file-name field).',
    ],
  };
}

function t1587003(plan: DetectionPlan<T1587003Params>, slice?: QueryWindow, offenseId?: number): AqlQuery {
  const p = plan.params;
  const image = `LOWER(${prop('Image')})`;
  const cmd = prop('CommandLine');
  const file = prop('TargetFilename');
  const any = (values: readonly string[]) => `(${values.map((v) => escapeRegex(v.toLowerCase())).join('|')})`;
  const named = (names: readonly string[]) => `${image} IMATCHES ${aqlString(`^(.*[\\\\/])?${any(names)}$`)}`;
  const contains = (expr: string, values: readonly string[]) => `${expr} IMATCHES ${aqlString(`^.*${any(values)}.*$`)}`;
  const isProcess = `${prop('EventID')} = '1'`;
  const isFile = `${prop('EventID')} = '11'`;
  const tool = `${isProcess} AND (${named(p.certTools)} OR (${named(p.opensslNames)} AND ${contains(cmd, p.opensslPatterns)}))`;
  const ps = `${isProcess} AND ${named(p.powershellNames)} AND ${contains(cmd, p.powershellPatterns)}`;
  const certutil = `${isProcess} AND ${named(p.certutilNames)} AND ${cmd} IMATCHES ${aqlString(`^(.*\\s)?[-/]${any(p.certutilImportVerbs)}(\\s.*)?$`)}`;
  const staged = `${isFile} AND ${file} IMATCHES ${aqlString(`^.*${any(p.certFileExtensions)}$`)} AND ${contains(file, p.suspiciousFolders)}`;
  const trust = `${cmd} IMATCHES ${aqlString(`^.*(cert:\\\\(localmachine|currentuser)\\\\|[-/]addstore\\s+([-/]\\S+\\s+)*["']?)${any(p.trustStores)}(["'\\s\\\\].*)?$`)}`;
  const more = t1587003Phase2(p, { isProcess, isFile, named, contains, any, cmd, file });
  const { score, columns, untranslated } = scoreParts(plan, {
    ...more.signals,
    cert_tool_execution: `(${tool})`,
    powershell_certificate_creation: `(${ps})`,
    certutil_store_import: `(${certutil})`,
    trust_store_target: `((${ps}) OR (${certutil})) AND ${trust}`,
    cert_file_in_staging_folder: `(${staged})`,
    private_key_file: `(${staged}) AND ${file} IMATCHES ${aqlString(`^.*${any(p.privateKeyExtensions)}$`)}`,
  });
  const query = [
    `SELECT DATEFORMAT(devicetime, 'yyyy-MM-dd HH:mm:ss') AS 'EventTime', LOGSOURCENAME(logsourceid) AS 'LogSource', username, ${prop('EventID')}, ${prop('Image')}, ${cmd}, ${file},`,
    `  ${columns.join(',\n  ')},`,
    `  ${score} AS 'CertRiskScore', ${levelExpr(plan, score)} AS 'CertRiskLevel'`,
    'FROM events',
    `WHERE ${prop('EventID')} IN ('1', '11')`,
    `  AND (${[tool, ps, certutil, staged, ...more.branches].map((c) => `(${c})`).join(' OR ')})`,
    `  AND ${score} > ${plan.minScore}`,
    ...orderAndWindow(plan, slice, offenseId),
  ].join('\n');
  return {
    name: `certsoar ${plan.detection.meta.id}`,
    detectionId: plan.detection.meta.id,
    query,
    properties: ['EventID', 'Image', 'CommandLine', 'TargetFilename'].map(sysmonProperty),
    limitations: [
      ...untranslated,
      'Certificate subject and DNS names in the command line are not extracted (AQL has no capture-group extraction); the Sentinel and Splunk outputs carry them.',
      'Encoded PowerShell commands (-EncodedCommand) are not decoded: AQL has no base64 decoding.',
    ],
  };
}

interface T1587003Parts {
  isProcess: string;
  isFile: string;
  named: (names: readonly string[]) => string;
  contains: (expr: string, values: readonly string[]) => string;
  any: (values: readonly string[]) => string;
  cmd: string;
  file: string;
}

/** Linux/macOS trust-store installs, trust-anchor files and private keys written elsewhere, when the definition has their parameters. */
function t1587003Phase2(p: T1587003Params, x: T1587003Parts): { signals: Record<string, string>; branches: string[] } {
  const tools = optionalList(p, 'unixTrustTools');
  const patterns = optionalList(p, 'unixTrustPatterns');
  const anchors = optionalList(p, 'trustAnchorFolders');
  const writers = optionalList(p, 'expectedKeyWriters');
  const signals: Record<string, string> = {};
  const branches: string[] = [];
  if (tools?.length && patterns?.length) {
    signals['unix_trust_store_install'] = `${x.isProcess} AND ${x.named(tools)} AND ${x.contains(x.cmd, patterns)}`;
    branches.push(signals['unix_trust_store_install']);
  }
  if (anchors?.length) {
    const inAnchor = `${x.file} IMATCHES ${aqlString(`^${x.any(anchors)}.*$`)}`;
    signals['trust_anchor_file'] = `${x.isFile} AND ${inAnchor}`;
    branches.push(signals['trust_anchor_file']);
    if (writers) {
      const key = `${x.file} IMATCHES ${aqlString(`^.*${x.any(p.privateKeyExtensions)}$`)}`;
      signals['private_key_file_elsewhere'] = `${x.isFile} AND ${key} AND NOT (${x.contains(x.file, p.suspiciousFolders)}) AND NOT (${inAnchor}) AND NOT (${x.named(writers)})`;
      branches.push(signals['private_key_file_elsewhere']);
    }
  }
  return { signals, branches };
}

type Builder = (plan: DetectionPlan<never>, slice?: QueryWindow, offenseId?: number) => AqlQuery;
const BUILDERS: Record<string, Builder> = {
  'T1608.003': t1608003 as Builder,
  'T1588.004': t1588004 as Builder,
  'T1587.003': t1587003 as Builder,
};

export function aqlQueries(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): AqlQuery[] {
  return detections.map((d) => aqlQuery(d, tuning));
}

/** One detection's AQL: the scheduled form, or the hunt form over one slice; with an offense id, only that offense's events. */
export function aqlQuery(detection: Detection, tuning: Tuning, slice?: QueryWindow, offenseId?: number): AqlQuery {
  const build = BUILDERS[detection.meta.id];
  if (!build) throw new Error(`AQL: no query for detection ${detection.meta.id}`);
  return build(detectionPlan<never>(detection, tuning), slice, offenseId);
}
