import { z } from 'zod';
import { DNS_NAME_SOURCE, durationText, stringList } from '../common.js';
import {
  and,
  arrayConcat,
  coalesce,
  col,
  contains,
  emptyArray,
  eqi,
  extend,
  extract,
  extractAll,
  extractKv,
  iff,
  inCi,
  indexOf,
  isEmpty,
  isIn,
  isNotEmpty,
  isoTime,
  lit,
  matches,
  not,
  notInCi,
  or,
  packArray,
  param,
  re,
  reCs,
  replaceRegex,
  setHasElement,
  strcat,
  substring,
  dnsNames,
  tolower,
  trimEnd,
  where,
} from '../definition/build.js';
import { detectionFromDefinition } from '../definition/detection.js';
import type { DetectionDefinition, Expr } from '../definition/types.js';
import { cleanValue } from './clean-value.js';

/**
 * T1608.003 Install Digital Certificate, seen from the victim side: the certificate an NGFW or
 * proxy with TLS inspection logged for an outbound connection (CommonSecurityLog). Three
 * indicators, weighted as the reference page sets them: self-signed (3), names that do not
 * cover the destination host (2), placeholder common name (2). Surfaced above 1.
 *
 * Vendors log the certificate in different places. The subject, issuer, SAN and SNI come from
 * `key=value` pairs in AdditionalExtensions (keys tunable below), then from DeviceCustomString3/4
 * when their label says they hold the subject/issuer. Default keys and where they come from:
 * - Palo Alto (CDL/PAN-OS CEF, DECRYPTION log): PanOSCommonName, PanOSIssuerCommonName,
 *   PanOSServerNameIndication, PanOSCertificateSerial, PanOSFingerprint, PanOSTimeNotBefore/NotAfter,
 *   and the verdicts PanOSChainStatus / PanOSRootStatus (Trusted, Untrusted, Uninspected, Incomplete):
 *   docs.paloaltonetworks.com/ngfw/help/12-2/decryption-log-fields ("Root Status, Chain Status") and
 *   the Strata Logging Service decryption CEF/LEEF field lists; key spelling as in Azure-Sentinel's
 *   PaloAltoCDL sample (test/datasets/commonsecuritylog/PaloAltoCDLEvent.json).
 * - FortiGate: scertcname / scertissuer (server certificate CN and issuer in traffic and
 *   application-control logs), and the ssl log's cn, issuer, san, sni, sn, certhash, notbefore,
 *   notafter (FortiOS log message reference 62103 LOG_ID_SSL_NEGOTIATION_INFO). FortiOS CEF prefixes
 *   fields without a CEF name with FTNTFGT (docs.fortinet.com/document/fortigate/6.2.8/fortios-log-message-reference/998820);
 *   Sentinel's sample data shows them as FortinetFortiGate<field>; a syslog feed keeps the bare
 *   name. All three spellings are listed. The verdict is in the ssl-anomaly log's message,
 *   "certificate-status: untrusted|expired|…" (log IDs 1700062302/1700062303, Fortinet community
 *   articles 218813 and 308261), which CEF maps to msg → Message.
 * - Zeek ssl/x509 (through the Zeek adapter): ssl_subject, ssl_issuer, ssl_san, ssl_serial, ssl_sha1,
 *   ssl_not_before, ssl_not_after, ssl_sni, and ssl_validation_status (OpenSSL's verify result, e.g.
 *   "self signed certificate", "certificate has expired", "ok"; policy/protocols/ssl/validate-certs.zeek).
 * - Check Point, Cisco Secure Firewall and Zscaler NSS: the generic ssl-subject/ssl_subject,
 *   ssl-issuer/ssl_issuer, tls_cert_subject/tls_cert_issuer, ssl_cn, ssl_san, ssl_sni and Cisco's
 *   SSL_CertFingerprint. NOT confirmed against those vendors' documentation (not found in the
 *   sources available): add their exact names through the tuning document.
 */

const ID = 'T1608.003';

export const t1608003ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  tlsPorts: z.array(z.number().int().min(1).max(65535)).min(1).default([443, 8443, 4443, 10443]),
  /** Rows whose DeviceAction is one of these (case-insensitive) never carried a session. */
  excludedActions: stringList(['deny', 'denied', 'block', 'blocked', 'block-url', 'drop', 'dropped', 'drop-all', 'reset', 'reset-both', 'reset-server', 'reset-client', 'reject', 'rejected']),
  // Keys of the `key=value` pairs in AdditionalExtensions, per vendor (sources in the header comment).
  subjectKeys: stringList([
    'PanOSCommonName',
    'FortinetFortiGatescertcname',
    'FTNTFGTscertcname',
    'scertcname',
    'FortinetFortiGatecn',
    'FTNTFGTcn',
    'ssl-subject',
    'ssl_subject',
    'tls_cert_subject',
    'ssl_certificate_subject',
    'ssl_cn',
  ]),
  issuerKeys: stringList([
    'PanOSIssuerCommonName',
    'FortinetFortiGatescertissuer',
    'FTNTFGTscertissuer',
    'scertissuer',
    'FortinetFortiGateissuer',
    'FTNTFGTissuer',
    'ssl-issuer',
    'ssl_issuer',
    'tls_cert_issuer',
    'ssl_certificate_issuer',
    'issuer-cn',
  ]),
  sanKeys: stringList(['FortinetFortiGatesan', 'FTNTFGTsan', 'ssl-san', 'ssl_san', 'tls_cert_san']),
  sniKeys: stringList(['PanOSServerNameIndication', 'FortinetFortiGatesni', 'FTNTFGTsni', 'ssl-sni', 'ssl_sni', 'sni']),
  serialKeys: stringList(['PanOSCertificateSerial', 'FortinetFortiGatesn', 'FTNTFGTsn', 'ssl_serial', 'ssl-serial']),
  fingerprintKeys: stringList(['PanOSFingerprint', 'FortinetFortiGatecerthash', 'FTNTFGTcerthash', 'SSL_CertFingerprint', 'ssl_sha1', 'ssl-sha1', 'ssl_sha256', 'ssl_fingerprint']),
  notBeforeKeys: stringList(['PanOSTimeNotBefore', 'FortinetFortiGatenotbefore', 'FTNTFGTnotbefore', 'ssl_not_before', 'ssl-not-before']),
  notAfterKeys: stringList(['PanOSTimeNotAfter', 'FortinetFortiGatenotafter', 'FTNTFGTnotafter', 'ssl_not_after', 'ssl-not-after']),
  /**
   * Keys holding the device's own verdict on the certificate chain: PAN-OS decryption log Chain
   * Status / Root Status, Zeek's validation_status (as the Zeek adapter names it). FortiGate writes
   * its verdict into the message ("certificate-status: untrusted"), read from Message.
   */
  verdictKeys: stringList(['PanOSChainStatus', 'PanOSRootStatus', 'ssl_validation_status', 'validation_status']),
  /** Verdict values (exact, case-insensitive) by meaning. */
  trustedVerdicts: stringList(['trusted', 'ok']),
  untrustedVerdicts: stringList([
    'untrusted',
    'incomplete',
    'revoked',
    'invalid',
    'unable to get local issuer certificate',
    'self signed certificate in certificate chain',
    'certificate signature failure',
    'certificate revoked',
  ]),
  expiredVerdicts: stringList(['expired', 'certificate has expired', 'certificate is not yet valid']),
  selfSignedVerdicts: stringList(['self-signed', 'self signed', 'self signed certificate']),
  /** Common names that are placeholders as a whole (case-insensitive globs). */
  placeholderCnNames: stringList(['localhost', 'localhost.localdomain', 'example.com', '*.example.com', 'staging-*', '*.invalid', 'invalid']),
  /** Words that make a common name a placeholder wherever they stand as a whole word. */
  placeholderCnWords: stringList(['test', 'temp', 'default', 'localhost', 'changeme', 'placeholder']),
  weights: z
    .strictObject({
      self_signed: z.number().default(3),
      hostname_mismatch: z.number().default(2),
      placeholder_cn: z.number().default(2),
      /** The device itself found the chain untrusted (unknown root, incomplete, revoked). */
      device_untrusted: z.number().default(2),
      /** The device itself found the certificate expired or not yet valid. */
      device_expired: z.number().default(1),
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

const COLUMNS = {
  TimeGenerated: 'datetime',
  DeviceVendor: 'string',
  DeviceProduct: 'string',
  DeviceAction: 'string',
  SourceIP: 'string',
  SourcePort: 'int',
  SourceHostName: 'string',
  SourceUserName: 'string',
  DestinationIP: 'string',
  DestinationPort: 'int',
  DestinationHostName: 'string',
  Message: 'string',
  AdditionalExtensions: 'string',
  DeviceCustomString3: 'string',
  DeviceCustomString3Label: 'string',
  DeviceCustomString4: 'string',
  DeviceCustomString4Label: 'string',
} as const;

/** `key=value` in AdditionalExtensions for the keys of a list parameter: pairs separated by `;` (Sentinel) or `|`. */
const extension = (keysParam: string): Expr => extractKv(keysParam, col('AdditionalExtensions'));
const CN_PRESENT = re('(?:^|[,/])[ \\t]*CN=');
const CN_VALUE = re('(?:^|[,/])[ \\t]*CN=([^,/]*)');
const SAN_NAME = reCs('(?:dns:)?([^\\s,:]+)');
/** The common name of a distinguished name, or the whole value when it has no CN=. */
const commonName = (dn: Expr): Expr => cleanValue(iff(matches(dn, CN_PRESENT), extract(CN_VALUE, 1, dn), dn));
const PLACEHOLDER = re('^(?:{{placeholderCnNames:glob}})$|(?:^|[^a-z0-9])(?:{{placeholderCnWords}})(?:[^a-z0-9]|$)');
/** A fingerprint as hex without separators, lower-case. */
const fingerprint = tolower(replaceRegex(cleanValue(extension('fingerprintKeys')), reCs('[:\\s]'), ''));
const sanList = iff(isEmpty(col('TLSSubjectAltNames')), emptyArray, extractAll(SAN_NAME, tolower(col('TLSSubjectAltNames'))));

// Each candidate is cleaned before coalescing: a blank first candidate must not hide the next.
const TLS_SUBJECT = coalesce(cleanValue(extension('subjectKeys')), cleanValue(iff(contains(col('DeviceCustomString3Label'), 'subject'), col('DeviceCustomString3'), lit(''))));
const TLS_ISSUER = coalesce(cleanValue(extension('issuerKeys')), cleanValue(iff(contains(col('DeviceCustomString4Label'), 'issuer'), col('DeviceCustomString4'), lit(''))));
const DEVICE_VERDICT = tolower(coalesce(cleanValue(extension('verdictKeys')), extract(re('certificate-status:[ \\t]*([a-z][a-z -]*[a-z])'), 1, col('Message'))));
const DESTINATION_HOST = tolower(trimEnd(reCs('\\.+'), coalesce(cleanValue(col('DestinationHostName')), cleanValue(extension('sniKeys')))));

export const t1608003Definition: DetectionDefinition<T1608003Params> = {
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
  params: t1608003ParamsSchema,
  lookback: 'lookback',
  minScore: 'minScore',
  branches: [
    {
      name: 'TlsSessions',
      table: 'CommonSecurityLog',
      columns: COLUMNS,
      timeColumn: 'TimeGenerated',
      steps: [
        where(notInCi(col('DeviceAction'), param('excludedActions'))),
        where(isIn(col('DestinationPort'), param('tlsPorts'))),
        // Computed once for the hits and for the sessions without a certificate.
        extend('TLSSubject', TLS_SUBJECT),
        extend('TLSIssuer', TLS_ISSUER),
        extend('DestinationHost', DESTINATION_HOST),
        // The device's verdict: a verdict key, or FortiGate's "certificate-status: <verdict>" message.
        extend('DeviceVerdict', DEVICE_VERDICT),
      ],
    },
  ],
  steps: [
    where(or(isNotEmpty(col('TLSSubject')), isNotEmpty(col('TLSIssuer')), isNotEmpty(col('DeviceVerdict')))),
    extend('ChainTrusted', inCi(col('DeviceVerdict'), param('trustedVerdicts'))),
    extend('SubjectCN', commonName(col('TLSSubject'))),
    extend('IssuerCN', commonName(col('TLSIssuer'))),
    extend('TLSSubjectAltNames', cleanValue(extension('sanKeys'))),
    extend('CertNames', arrayConcat(packArray(tolower(col('SubjectCN'))), sanList)),
    extend('HostIsDnsName', matches(col('DestinationHost'), re(DNS_NAME_SOURCE))),
    extend('HostWildcard', iff(contains(col('DestinationHost'), '.'), strcat(lit('*'), substring(col('DestinationHost'), indexOf(col('DestinationHost'), lit('.')))), lit(''))),
    extend('CertCoversHost', or(setHasElement(col('CertNames'), col('DestinationHost')), and(isNotEmpty(col('HostWildcard')), setHasElement(col('CertNames'), col('HostWildcard'))))),
    // Self-signed: issuer equals subject, or the device says so; never when the device trusts the chain
    // (an internal CA it knows issues certificates whose names can repeat).
    extend(
      'IsSelfSigned',
      and(
        or(and(isNotEmpty(col('TLSSubject')), isNotEmpty(col('TLSIssuer')), eqi(col('TLSSubject'), col('TLSIssuer'))), inCi(col('DeviceVerdict'), param('selfSignedVerdicts'))),
        not(col('ChainTrusted')),
      ),
    ),
    extend('DeviceUntrusted', inCi(col('DeviceVerdict'), param('untrustedVerdicts'))),
    extend('DeviceExpired', inCi(col('DeviceVerdict'), param('expiredVerdicts'))),
    extend('IsHostnameMismatch', and(col('HostIsDnsName'), or(isNotEmpty(col('SubjectCN')), isNotEmpty(col('TLSSubjectAltNames'))), not(col('CertCoversHost')))),
    extend('HasPlaceholderCn', and(isNotEmpty(col('SubjectCN')), matches(col('SubjectCN'), PLACEHOLDER))),
  ],
  signals: [
    { id: 'self_signed', when: col('IsSelfSigned'), weight: 'weights.self_signed', reason: 'certificate issuer equals its subject ({TLSSubject})' },
    { id: 'hostname_mismatch', when: col('IsHostnameMismatch'), weight: 'weights.hostname_mismatch', reason: 'the certificate names ({CertNames}) do not cover the destination {DestinationHost}' },
    { id: 'placeholder_cn', when: col('HasPlaceholderCn'), weight: 'weights.placeholder_cn', reason: 'certificate common name "{SubjectCN}" is a placeholder' },
    { id: 'device_untrusted', when: col('DeviceUntrusted'), weight: 'weights.device_untrusted', reason: '{DeviceVendor} reported the certificate chain as "{DeviceVerdict}"' },
    { id: 'device_expired', when: col('DeviceExpired'), weight: 'weights.device_expired', reason: '{DeviceVendor} reported the certificate as "{DeviceVerdict}"' },
  ],
  scoreColumn: 'CertRiskScore',
  allow: [inCi(col('TLSIssuer'), param('allowedIssuers')), inCi(col('DestinationHost'), param('allowedDestinationHosts'))],
  project: [
    ...Object.keys(COLUMNS),
    'TLSSubject',
    'TLSIssuer',
    'SubjectCN',
    'IssuerCN',
    'TLSSubjectAltNames',
    'DestinationHost',
    'IsSelfSigned',
    'IsHostnameMismatch',
    'HasPlaceholderCn',
    'DeviceVerdict',
    'CertRiskScore',
  ],
  sort: [
    { column: 'CertRiskScore', order: 'desc' },
    { column: 'TimeGenerated', order: 'desc' },
  ],
  time: ['TimeGenerated', 'ReceiptTime'],
  key: [col('SourceIP'), col('SourcePort'), col('DestinationIP'), col('DestinationPort'), col('TLSSubject'), col('TLSIssuer'), col('DeviceVendor')],
  indicators: {
    TLSSubject: col('TLSSubject'),
    TLSIssuer: col('TLSIssuer'),
    SubjectCN: col('SubjectCN'),
    DestinationHost: col('DestinationHost'),
    DeviceVendor: col('DeviceVendor'),
    IsSelfSigned: col('IsSelfSigned'),
    IsHostnameMismatch: col('IsHostnameMismatch'),
    HasPlaceholderCn: col('HasPlaceholderCn'),
    DeviceVerdict: col('DeviceVerdict'),
    CertRiskScore: col('CertRiskScore'),
    SessionWithoutCertificate: lit(false),
  },
  entities: {
    host: col('SourceHostName'),
    account: col('SourceUserName'),
    sourceIp: col('SourceIP'),
    destinationIp: col('DestinationIP'),
    destinationHost: col('DestinationHost'),
    destinationPort: col('DestinationPort'),
    domains: dnsNames(col('DestinationHost'), col('CertNames')),
  },
  certificate: {
    subject: col('TLSSubject'),
    issuer: col('TLSIssuer'),
    subjectCommonName: col('SubjectCN'),
    issuerCommonName: col('IssuerCN'),
    sans: sanList,
    serialNumber: cleanValue(extension('serialKeys')),
    sha1: iff(matches(fingerprint, reCs('^[0-9a-f]{40}$')), fingerprint, lit('')),
    sha256: iff(matches(fingerprint, reCs('^[0-9a-f]{64}$')), fingerprint, lit('')),
    notBefore: isoTime(cleanValue(extension('notBeforeKeys'))),
    notAfter: isoTime(cleanValue(extension('notAfterKeys'))),
    selfSigned: col('IsSelfSigned'),
  },
  // TLS sessions that carry no certificate (TLS resumption, or a vendor that logs the certificate
  // only on the first session) to an endpoint that presented a suspicious one: marked
  // SessionWithoutCertificate so they can be attributed to that endpoint's threat.
  related: {
    marker: 'SessionWithoutCertificate',
    // No certificate and no verdict about one: a row with a verdict is judged as a hit (or not) itself.
    steps: [where(and(isEmpty(col('TLSSubject')), isEmpty(col('TLSIssuer')), isEmpty(col('DeviceVerdict')), isNotEmpty(col('DestinationIP'))))],
    joinOn: ['DestinationIP', 'DestinationPort'],
    key: [col('SourceIP'), col('SourcePort'), col('DestinationIP'), col('DestinationPort'), col('DeviceVendor')],
    indicators: { DestinationHost: col('DestinationHost'), DeviceVendor: col('DeviceVendor') },
    entities: {
      host: col('SourceHostName'),
      account: col('SourceUserName'),
      sourceIp: col('SourceIP'),
      destinationIp: col('DestinationIP'),
      destinationHost: col('DestinationHost'),
      destinationPort: col('DestinationPort'),
      domains: dnsNames(col('DestinationHost')),
    },
  },
  scheduleSetting: 'HUNT_SCHEDULE_T1608_003',
};

export const t1608003 = detectionFromDefinition(t1608003Definition);
