import { z } from 'zod';
import type { CertificateObservation, Entities, Row, Signal } from '../model.js';
import { kqlIntList, kqlReal, kqlString, kqlStringList } from '../kql/literals.js';
import { escapeRegex, globToRegex, jsRegex, kqlRegex } from '../kql/regex.js';
import { DNS_NAME_SOURCE, durationText, eventTime, isDnsName, numeric, stableKey, stringList, text, timeFilter, unique } from './common.js';
import type { Detection, Evaluation, QueryWindow } from './types.js';

/**
 * T1608.003 Install Digital Certificate, seen from the victim side: the certificate an NGFW or
 * proxy with TLS inspection logged for an outbound connection (CommonSecurityLog). Three
 * indicators, weighted as the reference page sets them: self-signed (3), names that do not
 * cover the destination host (2), placeholder common name (2). Surfaced above 1.
 *
 * Vendors log the certificate in different places. The subject, issuer, SAN and SNI come from
 * `key=value` pairs in AdditionalExtensions (keys tunable below), then from DeviceCustomString3/4
 * when their label says they hold the subject/issuer. Default keys:
 * - Palo Alto (CDL/PAN-OS CEF): PanOSCommonName, PanOSIssuerCommonName, PanOSServerNameIndication,
 *   PanOSCertificateSerial, PanOSFingerprint, PanOSTimeNotBefore/NotAfter (DECRYPTION log).
 * - Fortinet (FortiOS ssl-negotiation log fields cn, issuer, san, sni, sn, certhash, notbefore,
 *   notafter; Sentinel prefixes them FortinetFortiGate).
 * - Check Point, Cisco, Zscaler and generic CEF: ssl-subject/ssl_subject, ssl-issuer/ssl_issuer,
 *   tls_cert_subject/tls_cert_issuer, ssl_cn, ssl_san, ssl_sni and Cisco Secure Firewall's
 *   SSL_CertFingerprint. Add a vendor's own names through the tuning document.
 */

const ID = 'T1608.003';

export const t1608003ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  tlsPorts: z.array(z.number().int().min(1).max(65535)).min(1).default([443, 8443, 4443, 10443]),
  /** Rows whose DeviceAction is one of these (case-insensitive) never carried a session. */
  excludedActions: stringList([
    'deny',
    'denied',
    'block',
    'blocked',
    'block-url',
    'drop',
    'dropped',
    'drop-all',
    'reset',
    'reset-both',
    'reset-server',
    'reset-client',
    'reject',
    'rejected',
  ]),
  subjectKeys: stringList([
    'PanOSCommonName',
    'FortinetFortiGatecn',
    'ssl-subject',
    'ssl_subject',
    'tls_cert_subject',
    'ssl_certificate_subject',
    'ssl_cn',
  ]),
  issuerKeys: stringList([
    'PanOSIssuerCommonName',
    'FortinetFortiGateissuer',
    'ssl-issuer',
    'ssl_issuer',
    'tls_cert_issuer',
    'ssl_certificate_issuer',
    'issuer-cn',
  ]),
  sanKeys: stringList(['FortinetFortiGatesan', 'ssl-san', 'ssl_san', 'tls_cert_san']),
  sniKeys: stringList(['PanOSServerNameIndication', 'FortinetFortiGatesni', 'ssl-sni', 'ssl_sni', 'sni']),
  /** Common names that are placeholders as a whole (case-insensitive globs). */
  placeholderCnNames: stringList(['localhost', 'localhost.localdomain', 'example.com', '*.example.com', 'staging-*', '*.invalid', 'invalid']),
  /** Words that make a common name a placeholder wherever they stand as a whole word. */
  placeholderCnWords: stringList(['test', 'temp', 'default', 'localhost', 'changeme', 'placeholder']),
  weights: z
    .strictObject({
      self_signed: z.number().default(3),
      hostname_mismatch: z.number().default(2),
      placeholder_cn: z.number().default(2),
    })
    .prefault({}),
  /** Rows surface when their score is above this. */
  minScore: z.number().default(1),
  /** Issuers (exact, case-insensitive) that never surface: e.g. an internal CA. */
  allowedIssuers: stringList([]),
  /** Destination hosts (exact, case-insensitive) that never surface. */
  allowedDestinationHosts: stringList([]),
});
export type T1608003Params = z.output<typeof t1608003ParamsSchema>;

/** Fields only the twin reads (from AdditionalExtensions, which the query projects). */
const SERIAL_KEYS = ['PanOSCertificateSerial', 'FortinetFortiGatesn', 'ssl_serial', 'ssl-serial'];
const FINGERPRINT_KEYS = ['PanOSFingerprint', 'FortinetFortiGatecerthash', 'SSL_CertFingerprint', 'ssl_sha1', 'ssl-sha1', 'ssl_sha256', 'ssl_fingerprint'];
const NOT_BEFORE_KEYS = ['PanOSTimeNotBefore', 'FortinetFortiGatenotbefore', 'ssl_not_before', 'ssl-not-before'];
const NOT_AFTER_KEYS = ['PanOSTimeNotAfter', 'FortinetFortiGatenotafter', 'ssl_not_after', 'ssl-not-after'];

const TIME_COLUMNS = ['TimeGenerated', 'ReceiptTime'];

const RAW_COLUMNS = [
  'TimeGenerated',
  'DeviceVendor',
  'DeviceProduct',
  'DeviceAction',
  'SourceIP',
  'SourcePort',
  'SourceHostName',
  'SourceUserName',
  'DestinationIP',
  'DestinationPort',
  'DestinationHostName',
  'AdditionalExtensions',
  'DeviceCustomString3',
  'DeviceCustomString3Label',
  'DeviceCustomString4',
  'DeviceCustomString4Label',
] as const;

/** `key=value` in AdditionalExtensions: pairs separated by `;` (Sentinel) or `|`. */
function extensionRegex(keys: readonly string[]): string {
  return `(?:^|[;|])[ \\t]*(?:${keys.map(escapeRegex).join('|')})=([^;|\\r\\n]*)`;
}
const BLANK_VALUE = ['', 'null', 'n/a', '-', 'none'];
const CN_PRESENT = '(?:^|[,/])[ \\t]*CN=';
const CN_VALUE = '(?:^|[,/])[ \\t]*CN=([^,/]*)';
const SAN_NAME = '(?:dns:)?([^\\s,:]+)';
// Only ever used through matchAll, which clones it, so sharing one instance is safe.
const SAN_NAMES = new RegExp(SAN_NAME, 'g');
const CN_PRESENT_RE = jsRegex(CN_PRESENT);
const CN_VALUE_RE = jsRegex(CN_VALUE);
const SERIAL_RE = jsRegex(extensionRegex(SERIAL_KEYS));
const FINGERPRINT_RE = jsRegex(extensionRegex(FINGERPRINT_KEYS));
const NOT_BEFORE_RE = jsRegex(extensionRegex(NOT_BEFORE_KEYS));
const NOT_AFTER_RE = jsRegex(extensionRegex(NOT_AFTER_KEYS));

function placeholderRegex(p: T1608003Params): string | undefined {
  const parts: string[] = [];
  if (p.placeholderCnNames.length) parts.push(`^(?:${p.placeholderCnNames.map(globToRegex).join('|')})$`);
  if (p.placeholderCnWords.length) parts.push(`(?:^|[^a-z0-9])(?:${p.placeholderCnWords.map(escapeRegex).join('|')})(?:[^a-z0-9]|$)`);
  return parts.length ? parts.join('|') : undefined;
}

/** What the twin needs from the parameters, built once per parameters object instead of once per row. */
interface Compiled {
  excludedActions: Set<string>;
  tlsPorts: Set<number>;
  subject: RegExp;
  issuer: RegExp;
  san: RegExp;
  sni: RegExp;
  placeholder: RegExp | undefined;
  allowedIssuers: Set<string>;
  allowedDestinationHosts: Set<string>;
}

const compiledByParams = new WeakMap<T1608003Params, Compiled>();

function compiled(p: T1608003Params): Compiled {
  let c = compiledByParams.get(p);
  if (!c) {
    const placeholder = placeholderRegex(p);
    c = {
      excludedActions: new Set(p.excludedActions.map((a) => a.toLowerCase())),
      tlsPorts: new Set(p.tlsPorts),
      subject: jsRegex(extensionRegex(p.subjectKeys)),
      issuer: jsRegex(extensionRegex(p.issuerKeys)),
      san: jsRegex(extensionRegex(p.sanKeys)),
      sni: jsRegex(extensionRegex(p.sniKeys)),
      placeholder: placeholder === undefined ? undefined : jsRegex(placeholder),
      allowedIssuers: new Set(p.allowedIssuers.map((i) => i.toLowerCase())),
      allowedDestinationHosts: new Set(p.allowedDestinationHosts.map((h) => h.toLowerCase())),
    };
    compiledByParams.set(p, c);
  }
  return c;
}

function buildQuery(p: T1608003Params, window?: QueryWindow): string {
  const placeholder = placeholderRegex(p);
  const w = p.weights;
  return [
    `// ${ID} Install Digital Certificate: self-signed, mismatched or placeholder certificates seen by TLS inspection`,
    `let TlsPorts = ${kqlIntList(p.tlsPorts)};`,
    `let ExcludedActions = ${kqlStringList(p.excludedActions)};`,
    `let AllowedIssuers = ${kqlStringList(p.allowedIssuers)};`,
    `let AllowedDestinationHosts = ${kqlStringList(p.allowedDestinationHosts)};`,
    `let CleanValue = (value: string) { iff(trim(@"[ \\t\\r\\n]+", value) in~ (${BLANK_VALUE.map(kqlString).join(', ')}), "", trim(@"[ \\t\\r\\n]+", value)) };`,
    'CommonSecurityLog',
    timeFilter(p.lookback, window),
    '| where DeviceAction !in~ (ExcludedActions)',
    '| where DestinationPort in (TlsPorts)',
    `| extend TLSSubject = CleanValue(coalesce(extract(${kqlString(kqlRegex(extensionRegex(p.subjectKeys)))}, 1, AdditionalExtensions), iff(DeviceCustomString3Label contains "subject", DeviceCustomString3, "")))`,
    `| extend TLSIssuer = CleanValue(coalesce(extract(${kqlString(kqlRegex(extensionRegex(p.issuerKeys)))}, 1, AdditionalExtensions), iff(DeviceCustomString4Label contains "issuer", DeviceCustomString4, "")))`,
    '| where isnotempty(TLSSubject) or isnotempty(TLSIssuer)',
    `| extend SubjectCN = CleanValue(iff(TLSSubject matches regex ${kqlString(kqlRegex(CN_PRESENT))}, extract(${kqlString(kqlRegex(CN_VALUE))}, 1, TLSSubject), TLSSubject))`,
    `| extend IssuerCN = CleanValue(iff(TLSIssuer matches regex ${kqlString(kqlRegex(CN_PRESENT))}, extract(${kqlString(kqlRegex(CN_VALUE))}, 1, TLSIssuer), TLSIssuer))`,
    `| extend TLSSubjectAltNames = CleanValue(extract(${kqlString(kqlRegex(extensionRegex(p.sanKeys)))}, 1, AdditionalExtensions))`,
    `| extend CertNames = array_concat(pack_array(tolower(SubjectCN)), iff(isempty(TLSSubjectAltNames), dynamic([]), extract_all(${kqlString(SAN_NAME)}, tolower(TLSSubjectAltNames))))`,
    `| extend DestinationHost = tolower(trim_end(@"\\.+", CleanValue(coalesce(DestinationHostName, extract(${kqlString(kqlRegex(extensionRegex(p.sniKeys)))}, 1, AdditionalExtensions)))))`,
    `| extend HostIsDnsName = DestinationHost matches regex ${kqlString(kqlRegex(DNS_NAME_SOURCE))}`,
    '| extend HostWildcard = iff(DestinationHost contains ".", strcat("*", substring(DestinationHost, indexof(DestinationHost, "."))), "")',
    '| extend CertCoversHost = set_has_element(CertNames, DestinationHost) or (isnotempty(HostWildcard) and set_has_element(CertNames, HostWildcard))',
    '| extend IsSelfSigned = isnotempty(TLSSubject) and isnotempty(TLSIssuer) and TLSSubject =~ TLSIssuer',
    '| extend IsHostnameMismatch = HostIsDnsName and (isnotempty(SubjectCN) or isnotempty(TLSSubjectAltNames)) and not(CertCoversHost)',
    `| extend HasPlaceholderCn = ${placeholder ? `isnotempty(SubjectCN) and SubjectCN matches regex ${kqlString(kqlRegex(placeholder))}` : 'false'}`,
    `| extend CertRiskScore = iff(IsSelfSigned, ${kqlReal(w.self_signed)}, real(0)) + iff(IsHostnameMismatch, ${kqlReal(w.hostname_mismatch)}, real(0)) + iff(HasPlaceholderCn, ${kqlReal(w.placeholder_cn)}, real(0))`,
    `| where CertRiskScore > ${kqlReal(p.minScore)}`,
    '| where TLSIssuer !in~ (AllowedIssuers) and DestinationHost !in~ (AllowedDestinationHosts)',
    `| project ${RAW_COLUMNS.join(', ')},`,
    '    TLSSubject, TLSIssuer, SubjectCN, IssuerCN, TLSSubjectAltNames, DestinationHost,',
    '    IsSelfSigned, IsHostnameMismatch, HasPlaceholderCn, CertRiskScore',
    '| sort by CertRiskScore desc, TimeGenerated desc',
  ].join('\n');
}

/** What the certificate fields of one row say, as the query computes them. */
export interface TlsCertificateFields {
  subject: string;
  issuer: string;
  subjectCn: string;
  issuerCn: string;
  sanRaw: string;
  sans: string[];
  destinationHost: string;
}

function firstMatch(re: RegExp, value: string | undefined): string {
  if (value === undefined) return '';
  return re.exec(value)?.[1] ?? '';
}

const isSpace = (code: number) => code === 32 || code === 9 || code === 13 || code === 10;

/** CleanValue in the query: trimmed of spaces, tabs and line breaks; blank markers become ''. */
function cleanValue(value: string | undefined): string {
  const raw = value ?? '';
  let start = 0;
  let end = raw.length;
  while (start < end && isSpace(raw.charCodeAt(start))) start++;
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
  const v = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  // Every blank marker is at most four characters long.
  return v.length <= 4 && BLANK_VALUE.includes(v.toLowerCase()) ? '' : v;
}

function commonName(dn: string): string {
  return cleanValue(CN_PRESENT_RE.test(dn) ? firstMatch(CN_VALUE_RE, dn) : dn);
}

/** Reads subject, issuer, SANs and destination host from a CommonSecurityLog row. */
export function tlsCertificateFields(row: Row, p: T1608003Params): TlsCertificateFields {
  return certificateFields(row, compiled(p));
}

function certificateFields(row: Row, c: Compiled): TlsCertificateFields {
  const ext = text(row, 'AdditionalExtensions');
  const label3 = text(row, 'DeviceCustomString3Label')?.toLowerCase() ?? '';
  const label4 = text(row, 'DeviceCustomString4Label')?.toLowerCase() ?? '';
  const subject = cleanValue(firstMatch(c.subject, ext) || (label3.includes('subject') ? (text(row, 'DeviceCustomString3') ?? '') : ''));
  const issuer = cleanValue(firstMatch(c.issuer, ext) || (label4.includes('issuer') ? (text(row, 'DeviceCustomString4') ?? '') : ''));
  const sanRaw = cleanValue(firstMatch(c.san, ext));
  const sans = sanRaw ? [...sanRaw.toLowerCase().matchAll(SAN_NAMES)].map((m) => m[1] as string) : [];
  const host = cleanValue(text(row, 'DestinationHostName') || firstMatch(c.sni, ext))
    .replace(/\.+$/, '')
    .toLowerCase();
  return { subject, issuer, subjectCn: commonName(subject), issuerCn: commonName(issuer), sanRaw, sans, destinationHost: host };
}

/** True when one of the names covers the host: exact, or a wildcard for exactly one label. */
export function namesCoverHost(names: readonly string[], host: string): boolean {
  const lower = names.map((n) => n.toLowerCase());
  if (lower.includes(host)) return true;
  const dot = host.indexOf('.');
  return dot >= 0 && lower.includes(`*${host.slice(dot)}`);
}

function extensionValue(re: RegExp, ext: string | undefined): string {
  return cleanValue(firstMatch(re, ext));
}

function certificateTime(value: string): string | undefined {
  if (!value || value === '0') return undefined;
  const d = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function evaluate(row: Row, p: T1608003Params): Evaluation | null {
  const c = compiled(p);
  const action = text(row, 'DeviceAction')?.toLowerCase() ?? '';
  if (c.excludedActions.has(action)) return null;
  const port = numeric(row, 'DestinationPort');
  if (port === undefined || !c.tlsPorts.has(port)) return null;
  const f = certificateFields(row, c);
  if (!f.subject && !f.issuer) return null;

  const selfSigned = f.subject !== '' && f.issuer !== '' && f.subject.toLowerCase() === f.issuer.toLowerCase();
  const hostIsName = isDnsName(f.destinationHost);
  const certNames = [f.subjectCn.toLowerCase(), ...f.sans];
  const mismatch = hostIsName && (f.subjectCn !== '' || f.sanRaw !== '') && !namesCoverHost(certNames, f.destinationHost);
  const placeholder = c.placeholder !== undefined && f.subjectCn !== '' && c.placeholder.test(f.subjectCn);

  const signals: Signal[] = [];
  if (selfSigned) signals.push({ id: 'self_signed', points: p.weights.self_signed, reason: `certificate issuer equals its subject (${f.subject})` });
  if (mismatch) {
    const names = f.sans.length ? `CN ${f.subjectCn || '(none)'} and ${f.sans.length} SAN(s) do` : `CN ${f.subjectCn} does`;
    signals.push({ id: 'hostname_mismatch', points: p.weights.hostname_mismatch, reason: `${names} not cover the destination ${f.destinationHost}` });
  }
  if (placeholder) signals.push({ id: 'placeholder_cn', points: p.weights.placeholder_cn, reason: `certificate common name "${f.subjectCn}" is a placeholder` });
  const score = signals.reduce((s, x) => s + x.points, 0);
  if (!(score > p.minScore)) return null;
  if (c.allowedIssuers.has(f.issuer.toLowerCase())) return null;
  if (c.allowedDestinationHosts.has(f.destinationHost)) return null;

  const ext = text(row, 'AdditionalExtensions');
  const fingerprint = extensionValue(FINGERPRINT_RE, ext).replace(/[:\s]/g, '').toLowerCase();
  const serial = extensionValue(SERIAL_RE, ext);
  const notBefore = certificateTime(extensionValue(NOT_BEFORE_RE, ext));
  const notAfter = certificateTime(extensionValue(NOT_AFTER_RE, ext));
  // Optional fields are assigned one by one, in the order they always had: a conditional
  // spread per field costs more than the rest of the row's work.
  const certificate: CertificateObservation = {};
  if (f.subject) certificate.subject = f.subject;
  if (f.issuer) certificate.issuer = f.issuer;
  if (f.subjectCn) certificate.subjectCommonName = f.subjectCn;
  if (f.issuerCn) certificate.issuerCommonName = f.issuerCn;
  if (f.sans.length) certificate.sans = f.sans;
  if (serial) certificate.serialNumber = serial;
  if (/^[0-9a-f]{40}$/.test(fingerprint)) certificate.sha1 = fingerprint;
  if (/^[0-9a-f]{64}$/.test(fingerprint)) certificate.sha256 = fingerprint;
  if (notBefore) certificate.notBefore = notBefore;
  if (notAfter) certificate.notAfter = notAfter;
  certificate.selfSigned = selfSigned;

  const time = eventTime(row, TIME_COLUMNS);
  const sourceIp = text(row, 'SourceIP');
  const destinationIp = text(row, 'DestinationIP');
  const vendor = text(row, 'DeviceVendor');
  const domains = unique(
    [f.destinationHost, f.subjectCn.toLowerCase(), ...f.sans].map((d) => d.replace(/^\*\./, '')).filter((d) => isDnsName(d)),
  );
  const host = text(row, 'SourceHostName');
  const account = text(row, 'SourceUserName');
  const entities = {} as Entities; // domains, the one required field, goes last where it always stood
  if (host) entities.host = host;
  if (account) entities.account = account;
  if (sourceIp) entities.sourceIp = sourceIp;
  if (destinationIp) entities.destinationIp = destinationIp;
  if (f.destinationHost) entities.destinationHost = f.destinationHost;
  entities.destinationPort = port;
  entities.domains = domains;
  return {
    key: stableKey(ID, [time, sourceIp, text(row, 'SourcePort'), destinationIp, port, f.subject, f.issuer, vendor]),
    time,
    signals,
    indicators: {
      TLSSubject: f.subject || null,
      TLSIssuer: f.issuer || null,
      SubjectCN: f.subjectCn || null,
      DestinationHost: f.destinationHost || null,
      DeviceVendor: vendor ?? null,
      IsSelfSigned: selfSigned,
      IsHostnameMismatch: mismatch,
      HasPlaceholderCn: placeholder,
      CertRiskScore: score,
    },
    entities,
    certificate,
  };
}

export const t1608003: Detection<T1608003Params> = {
  meta: {
    id: ID,
    title: 'Suspicious TLS certificate on an outbound connection (Install Digital Certificate)',
    description:
      'Flags outbound TLS sessions that a firewall or proxy with TLS inspection allowed while the server presented a certificate ' +
      'that signs itself, whose names do not cover the host the client asked for, or whose common name is a stock placeholder. ' +
      'Adversaries install such certificates on the servers they stage for command and control, phishing and interception; the ' +
      'victim network only sees them when it connects.',
    technique: { id: ID, name: 'Stage Capabilities: Install Digital Certificate', url: 'https://attack.mitre.org/techniques/T1608/003/' },
    tactics: ['ResourceDevelopment'],
    severity: 'Medium',
    confidence: 'low',
    tables: ['CommonSecurityLog'],
    connectors: ['CefAma', 'PaloAltoNetworks', 'Fortinet', 'CheckPoint', 'CiscoASA', 'Zscaler'],
    queryFrequency: '15m',
    queryPeriod: '24h',
    schedule: '0 */15 * * * *',
    falsePositives: [
      'Development, test and lab services with self-signed certificates that users reach through the proxy.',
      'Older applications whose certificate still names the host they had before a rename or migration.',
      'Certificates from an internal CA whose root the inspecting device does not know, so they look self-signed.',
      'CDNs (Cloudflare, Akamai, Fastly) answering with a wildcard certificate that does not name the exact subdomain.',
      'VPN concentrators, reverse proxies and load balancers sharing one certificate across many backend names.',
      'Security and monitoring appliances that intercept TLS and present their own self-signed certificates.',
    ],
    references: [
      'https://attack.mitre.org/techniques/T1608/003/',
      'https://learn.microsoft.com/azure/sentinel/cef-name-mapping',
      'https://docs.paloaltonetworks.com/strata-logging-service/log-reference/network-logs/network-decryption-log',
      'https://docs.fortinet.com/document/fortiproxy/7.4.2/log-message-reference/62103',
    ],
  },
  paramsSchema: t1608003ParamsSchema,
  buildQuery,
  evaluate,
  projectedColumns: RAW_COLUMNS,
  scheduleSetting: 'HUNT_SCHEDULE_T1608_003',
};
