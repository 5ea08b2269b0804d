import { z } from 'zod';
import { durationText, stringList } from '../common.js';
import {
  and,
  arrayConcat,
  arrayLength,
  caseOf,
  decodeUtf16leBase64,
  coalesce,
  col,
  dnsNames,
  emptyArray,
  eq,
  endsWith,
  extract,
  extractAll,
  extend,
  gt,
  iff,
  inCi,
  isEmpty,
  isNotEmpty,
  lit,
  matches,
  not,
  or,
  notInCi,
  param,
  replaceRegex,
  re,
  strcat,
  startsWith,
  tolower,
  trimEnd,
  reCs,
  where,
} from '../definition/build.js';
import { detectionFromDefinition } from '../definition/detection.js';
import type { Branch, DetectionDefinition, Expr, Regex } from '../definition/types.js';
import { accountOf } from './t1588-004.js';

/**
 * T1587.003 Digital Certificates (develop): certificates and keys made on an endpoint. Four
 * branches over DeviceProcessEvents and DeviceFileEvents, each row naming its branch:
 * - CertGenToolExecution: openssl with certificate/key generation arguments, makecert, pvk2pfx, certmgr.
 * - PSCertificateCreation: PowerShell using New-SelfSignedCertificate or the .NET X.509 APIs.
 * - CertUtilStoreImport: certutil importing into a store (weighted up when it names a trust store).
 * - SuspiciousCertFileCreation: certificate or key files written to Temp, Public, ProgramData, /tmp….
 * Subject and DNS names are parsed from the command line (-subj, -Subject, makecert -n, -DnsName,
 * subjectAltName=DNS:…) so the names can be looked up in certificate transparency.
 *
 * Points (certsoar's choice; the reference page gives none): each branch 2 (Low on its own);
 * +2 when certutil or PowerShell targets a trust store (Root, AuthRoot, CA, TrustedPublisher,
 * TrustedPeople): the certificate is being made trusted, not just made; +1 when the file written
 * holds a private key (.pfx, .p12, .key, .pvk): a usable identity was staged.
 */

const ID = 'T1587.003';

export const BRANCHES = {
  tool: 'CertGenToolExecution',
  powershell: 'PSCertificateCreation',
  certutil: 'CertUtilStoreImport',
  unixTrust: 'UnixTrustStoreInstall',
  file: 'SuspiciousCertFileCreation',
} as const;

export const t1587003ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  /** Always flagged when they run. */
  certTools: stringList(['makecert.exe', 'pvk2pfx.exe', 'certmgr.exe']),
  opensslNames: stringList(['openssl.exe', 'openssl']),
  /** openssl is flagged only with one of these in its command line (case-insensitive substrings). */
  opensslPatterns: stringList(['req -new', 'req -x509', 'x509 -req', '-x509', 'genrsa', 'genpkey', 'pkcs12 -export', '-newkey rsa', '-newkey ec', 'gencert', '-selfsign', 'ca -selfsign']),
  /** Matched on FileName or on ProcessVersionInfoOriginalFileName (PowerShell 7 is built as pwsh.dll), so a renamed copy still counts. */
  powershellNames: stringList(['powershell.exe', 'pwsh.exe', 'powershell_ise.exe', 'pwsh', 'pwsh.dll']),
  powershellPatterns: stringList([
    'New-SelfSignedCertificate',
    'X509Certificate2',
    'System.Security.Cryptography.X509Certificates',
    'CertificateRequest',
    'RSACryptoServiceProvider',
    'ECDsaCng',
    'Import-Certificate',
    'Import-PfxCertificate',
    // Certificate enrollment through the CertEnroll COM classes (New-Object -ComObject X509Enrollment.CX509Enrollment).
    'X509Enrollment',
  ]),
  /** certutil by file name or by the original file name compiled into the binary (CertUtil.exe): a renamed certutil is certutil. */
  certutilNames: stringList(['certutil.exe']),
  /** certutil verbs that import (with - or / in front). */
  certutilImportVerbs: stringList(['addstore', 'addrepo', 'mergepfx', 'importpfx', 'importcert', 'installcert', 'p12']),
  /** Store names that make an import a trust decision (Cert:\…\<store>, certutil -addstore <store>). */
  trustStores: stringList(['Root', 'AuthRoot', 'CA', 'TrustedPublisher', 'TrustedPeople']),
  /**
   * Linux and macOS trust-store installs (DeviceProcessEvents on Defender for Endpoint for Linux/macOS):
   * update-ca-certificates (Debian), update-ca-trust and `trust anchor` (p11-kit, RHEL), and macOS
   * `security add-trusted-cert`. The tool must run with one of the patterns in its command line.
   */
  unixTrustTools: stringList(['update-ca-certificates', 'update-ca-trust', 'trust', 'security']),
  unixTrustPatterns: stringList(['update-ca-certificates', 'update-ca-trust', 'trust anchor', 'add-trusted-cert']),
  /** Folders whose certificates the system trusts: a file written there is a trust decision. */
  trustAnchorFolders: stringList(['/etc/pki/ca-trust/source/anchors/', '/usr/local/share/ca-certificates/', '/usr/share/ca-certificates/', '/etc/ca-certificates/trust-source/anchors/']),
  /** Processes expected to write private-key files outside the staging folders (exact names, case-insensitive). */
  expectedKeyWriters: stringList(['lsass.exe', 'svchost.exe', 'certreq.exe', 'certsrv.exe', 'mmc.exe']),
  certFileExtensions: stringList(['.pfx', '.p12', '.pem', '.cer', '.crt', '.der', '.key', '.pvk']),
  privateKeyExtensions: stringList(['.pfx', '.p12', '.key', '.pvk']),
  fileActionTypes: stringList(['FileCreated', 'FileRenamed']),
  /** Folders (case-insensitive substrings of FolderPath) where staged material hides. */
  suspiciousFolders: stringList(['\\Temp\\', '\\AppData\\Local\\Temp\\', '\\Users\\Public\\', '\\ProgramData\\', '\\Windows\\Temp\\', '/tmp/', '/var/tmp/', '/dev/shm/']),
  weights: z
    .strictObject({
      cert_tool_execution: z.number().default(2),
      powershell_certificate_creation: z.number().default(2),
      certutil_store_import: z.number().default(2),
      trust_store_target: z.number().default(2),
      cert_file_in_staging_folder: z.number().default(2),
      private_key_file: z.number().default(1),
      unix_trust_store_install: z.number().default(2),
      trust_anchor_file: z.number().default(2),
      /** A private key written outside the staging folders by an unexpected process: below the staging-folder case (2 + 1). */
      private_key_file_elsewhere: z.number().default(1),
    })
    .prefault({}),
  /** Rows surface when their score is above this. */
  minScore: z.number().default(1),
});
export type T1587003Params = z.output<typeof t1587003ParamsSchema>;

const PROCESS_COLUMNS = {
  TimeGenerated: 'datetime',
  DeviceId: 'string',
  DeviceName: 'string',
  ActionType: 'string',
  AccountDomain: 'string',
  AccountName: 'string',
  FileName: 'string',
  FolderPath: 'string',
  SHA1: 'string',
  ProcessVersionInfoOriginalFileName: 'string',
  ProcessCommandLine: 'string',
  InitiatingProcessFileName: 'string',
  InitiatingProcessCommandLine: 'string',
  InitiatingProcessParentFileName: 'string',
  ReportId: 'long',
  // For Sentinel's Process and Account entities (rules mode) and the findings row; no signal reads them.
  // The certificate tool's own process only: the rule query stays under Sentinel's 10,000 characters.
  ProcessId: 'long',
  ProcessCreationTime: 'datetime',
  AccountSid: 'string',
} as const;
const FILE_COLUMNS = {
  TimeGenerated: 'datetime',
  DeviceId: 'string',
  DeviceName: 'string',
  ActionType: 'string',
  FileName: 'string',
  FolderPath: 'string',
  SHA1: 'string',
  InitiatingProcessAccountDomain: 'string',
  InitiatingProcessAccountName: 'string',
  InitiatingProcessFileName: 'string',
  InitiatingProcessCommandLine: 'string',
  InitiatingProcessParentFileName: 'string',
  ReportId: 'long',
  // For Sentinel's Account entity (rules mode) and the findings row; no signal reads it.
  InitiatingProcessAccountSid: 'string',
} as const;
const RAW_COLUMNS = [...new Set([...Object.keys(PROCESS_COLUMNS), ...Object.keys(FILE_COLUMNS)])];

/** A command-line argument value: "quoted", 'quoted' or bare (groups 1, 2, 3). */
const ARG = `(?:"([^"]*)"|'([^']*)'|([^\\s"']+))`;
/** The subject a command gives: openssl -subj, New-SelfSignedCertificate -Subject, makecert -n (the first one on the line; one regex keeps the query short). */
const SUBJECT_OPTION = re(`(?:^|\\s)(?:-subj|-Subject|[-/]n)\\s+${ARG}`);
const DNSNAME_LIST = re(`-DnsName\\s+((?:@\\(\\s*)?(?:"[^"]*"|'[^']*'|[^\\s,"'()]+)(?:\\s*,\\s*(?:"[^"]*"|'[^']*'|[^\\s,"'()]+))*)`);
const DNSNAME_ITEM = reCs(`([^\\s,"'@()]+)`);
const SAN_EXT = re(`subjectAltName\\s*=\\s*([^"'\\s]+)`);
const SAN_DNS = re(`dns:([^,"'\\s]+)`);
const CN_VALUE = re('(?:^|[,/])[ \\t]*CN=([^,/]*)');
/** Self-signed by construction: makecert -r, openssl req -x509 / x509 -signkey without -CA, New-SelfSignedCertificate without -Signer. */
const MAKECERT_SELF_SIGNED = re('(?:^|\\s)[-/]r(?:\\s|$)');
const OPENSSL_SELF_SIGNED = re('(?:^|\\s)(?:req\\s(?:.*\\s)?-x509|x509\\s(?:.*\\s)?-signkey)(?:\\s|$)');
const OPENSSL_CA_OPTION = re('(?:^|\\s)-CA\\s');
const PS_SELF_SIGNED = re('New-SelfSignedCertificate');
const PS_SIGNER_OPTION = re('(?:^|\\s)-Signer(?:\\s|:|$)');

/** Cert:\\<location>\\<store>, certutil -addstore [-f -user …] <store>, certmgr /s [/r <location>] <store>. */
const TRUST_STORE = re(
  `(?:cert:\\\\(?:localmachine|currentuser)\\\\|[-/]addstore\\s+(?:[-/]\\S+\\s+)*["']?|[-/]s\\s+(?:[-/]r\\s+\\S+\\s+)?["']?){{trustStores}}(?:["'\\s\\\\]|$)`,
);
/** En dash, em dash and horizontal bar: PowerShell and many Windows tools take them as "-". */
const DASHES = reCs('[\u2013\u2014\u2015]');
/**
 * PowerShell's -EncodedCommand and every abbreviation it accepts (-e, -ec, -en, -enc, …): the
 * payload is base64 of UTF-16LE text.
 */
const ENCODED_COMMAND = re('(?:^|\\s)[-/](?:ec|e(?:n(?:c(?:o(?:d(?:e(?:d(?:c(?:o(?:m(?:m(?:a(?:n(?:d)?)?)?)?)?)?)?)?)?)?)?)?)?)\\s+["\']?([A-Za-z0-9+/]{8,}={0,2})');
const CERTUTIL_VERB = re('(?:^|\\s)[-/]{{certutilImportVerbs}}(?:\\s|$)');

/** The value of an option whose argument may be quoted either way or bare. */
const optionValue = (regex: Regex, value: Expr): Expr => coalesce(extract(regex, 1, value), extract(regex, 2, value), extract(regex, 3, value));

const isFileEvent = startsWith(col('ActionType'), 'file');
/** The command line as the tools read it: dash variants as "-", and an -EncodedCommand payload decoded and appended. */
const cmd = col('CommandText');
const PROCESSES = { name: 'Processes', steps: [
  extend('CommandLineDashes', replaceRegex(col('ProcessCommandLine'), DASHES, '-')),
  extend('DecodedCommand', decodeUtf16leBase64(extract(ENCODED_COMMAND, 1, col('CommandLineDashes')))),
  extend('CommandText', iff(isEmpty(col('DecodedCommand')), col('CommandLineDashes'), replaceRegex(strcat(col('CommandLineDashes'), lit(' '), col('DecodedCommand')), DASHES, '-'))),
] };
/** A process by file name or by the name compiled into its binary. */
const processIs = (namesParam: string): Expr => or(inCi(col('FileName'), param(namesParam)), inCi(col('ProcessVersionInfoOriginalFileName'), param(namesParam)));
const processProjection = (): Branch['project'] => [
  ...Object.keys(PROCESS_COLUMNS).map((name) => ({ name, expr: col(name) })),
  { name: 'DetectionBranch', expr: col('DetectionBranch') },
  { name: 'TargetsTrustStore', expr: col('TargetsTrustStore') },
  { name: 'DecodedCommand', expr: col('DecodedCommand') },
  { name: 'CommandLineForNames', expr: cmd },
];
const processBranch = (name: string, filter: Expr, trustStore: Expr): Branch => ({
  name,
  table: 'DeviceProcessEvents',
  columns: PROCESS_COLUMNS,
  timeColumn: 'TimeGenerated',
  belongs: not(isFileEvent),
  shared: PROCESSES,
  steps: [where(filter), extend('DetectionBranch', lit(name)), extend('TargetsTrustStore', trustStore)],
  project: processProjection(),
});

const IS_FILE = eq(col('DetectionBranch'), lit(BRANCHES.file));
/** The command line as logged (entities and keys show what ran, not the normalised text). */
const ORIGINAL_COMMAND_LINE = iff(IS_FILE, col('InitiatingProcessCommandLine'), col('ProcessCommandLine'));
/** The process whose command line names the certificate: the writer of a file, or the process itself. */
const processName = iff(IS_FILE, col('InitiatingProcessFileName'), col('FileName'));
const processBase = tolower(processName);
const names = col('CommandLineForNames');
const selfSigned = caseOf(
  [
    [inCi(processBase, lit(['makecert.exe', 'makecert'])), matches(names, MAKECERT_SELF_SIGNED)],
    [inCi(processBase, param('opensslNames')), and(matches(names, OPENSSL_SELF_SIGNED), not(matches(names, OPENSSL_CA_OPTION)))],
    [inCi(processBase, param('powershellNames')), and(matches(names, PS_SELF_SIGNED), not(matches(names, PS_SIGNER_OPTION)))],
  ],
  lit(false),
);
const filePath = iff(
  and(IS_FILE, isNotEmpty(col('FolderPath'))),
  iff(
    or(endsWith(col('FolderPath'), strcat(lit('\\'), col('FileName'))), endsWith(col('FolderPath'), strcat(lit('/'), col('FileName')))),
    col('FolderPath'),
    strcat(trimEnd(reCs('[\\\\/]'), col('FolderPath')), lit('\\'), col('FileName')),
  ),
  lit(''),
);

export const t1587003Definition: DetectionDefinition<T1587003Params> = {
  meta: {
    id: ID,
    title: 'Certificate or key material created on an endpoint (Develop Digital Certificates)',
    description:
      'Flags endpoints making their own certificates: openssl generating keys or certificates, makecert, pvk2pfx and certmgr, ' +
      'PowerShell creating certificates with New-SelfSignedCertificate or the .NET X.509 classes, certutil importing into a ' +
      'certificate store (weighted up for trust stores), and certificate or key files dropped in Temp, Public, ProgramData ' +
      'or /tmp. Adversaries make self-signed certificates for encrypted command and control, interception and impersonation.',
    technique: { id: ID, name: 'Develop Capabilities: Digital Certificates', url: 'https://attack.mitre.org/techniques/T1587/003/' },
    tactics: ['ResourceDevelopment'],
    severity: 'Medium',
    confidence: 'medium',
    tables: ['DeviceProcessEvents', 'DeviceFileEvents'],
    connectors: ['MicrosoftThreatProtection'],
    queryFrequency: '1h',
    queryPeriod: '24h',
    schedule: '0 10 * * * *',
    falsePositives: [
      'Developers making local HTTPS certificates for localhost with openssl or New-SelfSignedCertificate.',
      'PKI administrators and IT staff running the internal CA and importing the enterprise roots.',
      'CI/CD runners (Jenkins, GitLab, GitHub Actions on Windows) making throwaway certificates for test containers.',
      'Authorised penetration tests and red-team exercises simulating certificate-based command and control.',
      'Web server setup scripts (IIS, Nginx automation) that generate a self-signed certificate on first configuration.',
      'Monitoring agents (Datadog, Elastic Agent) managing the certificates for their own encrypted shipping.',
    ],
    references: [
      'https://attack.mitre.org/techniques/T1587/003/',
      'https://learn.microsoft.com/powershell/module/pki/new-selfsignedcertificate',
      'https://learn.microsoft.com/windows-server/administration/windows-commands/certutil',
      'https://docs.openssl.org/master/man1/openssl-req/',
    ],
  },
  params: t1587003ParamsSchema,
  lookback: 'lookback',
  minScore: 'minScore',
  branches: [
    processBranch(
      BRANCHES.tool,
      or(processIs('certTools'), and(processIs('opensslNames'), matches(cmd, re('{{opensslPatterns}}')))),
      matches(cmd, TRUST_STORE),
    ),
    processBranch(BRANCHES.powershell, and(processIs('powershellNames'), matches(cmd, re('{{powershellPatterns}}'))), matches(cmd, TRUST_STORE)),
    processBranch(BRANCHES.certutil, and(processIs('certutilNames'), matches(cmd, CERTUTIL_VERB)), matches(cmd, TRUST_STORE)),
    processBranch(BRANCHES.unixTrust, and(processIs('unixTrustTools'), matches(cmd, re('{{unixTrustPatterns}}'))), lit(true)),
    {
      name: BRANCHES.file,
      table: 'DeviceFileEvents',
      columns: FILE_COLUMNS,
      timeColumn: 'TimeGenerated',
      belongs: isFileEvent,
      steps: [
        where(and(inCi(col('ActionType'), param('fileActionTypes')), matches(col('FileName'), re('{{certFileExtensions}}$')))),
        extend('InStagingFolder', matches(col('FolderPath'), re('{{suspiciousFolders}}'))),
        extend('InTrustAnchorFolder', matches(col('FolderPath'), re('^{{trustAnchorFolders}}'))),
        extend('IsPrivateKeyFile', matches(col('FileName'), re('{{privateKeyExtensions}}$'))),
        // Staged in a staging folder, dropped where the system trusts it, or a private key written anywhere by an unexpected process.
        where(or(col('InStagingFolder'), col('InTrustAnchorFolder'), and(col('IsPrivateKeyFile'), notInCi(col('InitiatingProcessFileName'), param('expectedKeyWriters'))))),
        extend('DetectionBranch', lit(BRANCHES.file)),
        extend('TargetsTrustStore', col('InTrustAnchorFolder')),
      ],
      project: [
        ...Object.keys(FILE_COLUMNS).map((name) => ({ name, expr: col(name) })),
        { name: 'DetectionBranch', expr: col('DetectionBranch') },
        { name: 'TargetsTrustStore', expr: col('TargetsTrustStore') },
        { name: 'InStagingFolder', expr: col('InStagingFolder') },
        { name: 'InTrustAnchorFolder', expr: col('InTrustAnchorFolder') },
        { name: 'IsPrivateKeyFile', expr: col('IsPrivateKeyFile') },
        { name: 'CommandLineForNames', expr: col('InitiatingProcessCommandLine') },
      ],
    },
  ],
  steps: [
    extend('CertSubject', optionValue(SUBJECT_OPTION, names)),
    extend('CertSubjectCN', extract(CN_VALUE, 1, col('CertSubject'))),
    extend('DnsNameList', extract(DNSNAME_LIST, 1, names)),
    extend('SanList', extract(SAN_EXT, 1, names)),
    extend(
      'CertDnsNames',
      arrayConcat(
        iff(isEmpty(col('DnsNameList')), emptyArray, extractAll(DNSNAME_ITEM, col('DnsNameList'))),
        iff(isEmpty(col('SanList')), emptyArray, extractAll(SAN_DNS, col('SanList'))),
      ),
    ),
    extend('IsPrivateKeyFile', and(IS_FILE, col('IsPrivateKeyFile'))),
  ],
  signals: [
    { id: 'cert_tool_execution', when: eq(col('DetectionBranch'), lit(BRANCHES.tool)), weight: 'weights.cert_tool_execution', reason: '{FileName} ran with certificate or key generation arguments' },
    { id: 'powershell_certificate_creation', when: eq(col('DetectionBranch'), lit(BRANCHES.powershell)), weight: 'weights.powershell_certificate_creation', reason: '{FileName} used certificate cmdlets or .NET X.509 APIs' },
    { id: 'certutil_store_import', when: eq(col('DetectionBranch'), lit(BRANCHES.certutil)), weight: 'weights.certutil_store_import', reason: '{FileName} imported a certificate into a store' },
    { id: 'unix_trust_store_install', when: eq(col('DetectionBranch'), lit(BRANCHES.unixTrust)), weight: 'weights.unix_trust_store_install', reason: '{FileName} installed a certificate into the system trust store' },
    { id: 'cert_file_in_staging_folder', when: and(IS_FILE, col('InStagingFolder')), weight: 'weights.cert_file_in_staging_folder', reason: '{InitiatingProcessFileName} wrote {FileName} to a staging folder' },
    { id: 'trust_anchor_file', when: and(IS_FILE, col('InTrustAnchorFolder')), weight: 'weights.trust_anchor_file', reason: '{InitiatingProcessFileName} wrote {FileName} into a trust-anchor folder ({FolderPath})' },
    { id: 'trust_store_target', when: col('TargetsTrustStore'), weight: 'weights.trust_store_target', reason: 'the command targets a trust store (Root, AuthRoot, CA, trusted publishers or people)' },
    { id: 'private_key_file', when: col('IsPrivateKeyFile'), weight: 'weights.private_key_file', reason: '{FileName} holds a private key' },
    {
      id: 'private_key_file_elsewhere',
      when: and(col('IsPrivateKeyFile'), not(col('InStagingFolder')), not(col('InTrustAnchorFolder'))),
      weight: 'weights.private_key_file_elsewhere',
      reason: '{InitiatingProcessFileName} wrote the private key {FileName} outside the staging folders, and is not a process expected to',
    },
  ],
  scoreColumn: 'CertRiskScore',
  allow: [],
  project: [...RAW_COLUMNS, 'DetectionBranch', 'TargetsTrustStore', 'IsPrivateKeyFile', 'DecodedCommand', 'CertSubject', 'CertSubjectCN', 'CertDnsNames', 'CertRiskScore'],
  sort: [{ column: 'TimeGenerated', order: 'desc' }],
  time: ['TimeGenerated', 'Timestamp'],
  key: [coalesce(col('DeviceId'), col('DeviceName')), col('DetectionBranch'), col('FileName'), col('FolderPath'), ORIGINAL_COMMAND_LINE, col('ReportId')],
  indicators: {
    DetectionBranch: col('DetectionBranch'),
    TargetsTrustStore: col('TargetsTrustStore'),
    IsPrivateKeyFile: col('IsPrivateKeyFile'),
    CertSubject: col('CertSubject'),
    CertSubjectCN: col('CertSubjectCN'),
    CertDnsNames: col('CertDnsNames'),
    CertRiskScore: col('CertRiskScore'),
    DecodedCommand: col('DecodedCommand'),
    // What suppressions key on: the binary's own name and where it runs from, not the name it was given.
    ProcessOriginalFileName: col('ProcessVersionInfoOriginalFileName'),
    ProcessFolderPath: iff(IS_FILE, lit(''), col('FolderPath')),
  },
  entities: {
    host: col('DeviceName'),
    account: iff(IS_FILE, accountOf(col('InitiatingProcessAccountDomain'), col('InitiatingProcessAccountName')), accountOf(col('AccountDomain'), col('AccountName'))),
    processName,
    commandLine: ORIGINAL_COMMAND_LINE,
    parentProcessName: iff(IS_FILE, col('InitiatingProcessParentFileName'), col('InitiatingProcessFileName')),
    filePath,
    fileHashSha1: iff(IS_FILE, tolower(col('SHA1')), lit('')),
    domains: dnsNames(col('CertSubjectCN'), col('CertDnsNames')),
  },
  certificateWhen: or(isNotEmpty(col('CertSubject')), gt(arrayLength(col('CertDnsNames')), lit(0)), selfSigned),
  certificate: {
    subject: col('CertSubject'),
    subjectCommonName: col('CertSubjectCN'),
    sans: col('CertDnsNames'),
    selfSigned: iff(selfSigned, lit(true), lit('')),
  },
  scheduleSetting: 'HUNT_SCHEDULE_T1587_003',
};

export const t1587003 = detectionFromDefinition(t1587003Definition);
