import { z } from 'zod';
import type { CertificateObservation, Entities, Row, Signal } from '../model.js';
import { kqlReal, kqlString, kqlStringList } from '../kql/literals.js';
import { escapeRegex, jsRegex, kqlRegex } from '../kql/regex.js';
import { baseName, durationText, eventTime, isDnsName, stableKey, stringList, text, timeFilter, unique } from './common.js';
import type { Detection, Evaluation, QueryWindow } from './types.js';

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
  file: 'SuspiciousCertFileCreation',
} as const;

export const t1587003ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  /** Always flagged when they run. */
  certTools: stringList(['makecert.exe', 'pvk2pfx.exe', 'certmgr.exe']),
  opensslNames: stringList(['openssl.exe', 'openssl']),
  /** openssl is flagged only with one of these in its command line (case-insensitive substrings). */
  opensslPatterns: stringList(['req -new', 'req -x509', 'x509 -req', '-x509', 'genrsa', 'genpkey', 'pkcs12 -export', '-newkey rsa', '-newkey ec', 'gencert', '-selfsign', 'ca -selfsign']),
  powershellNames: stringList(['powershell.exe', 'pwsh.exe', 'powershell_ise.exe', 'pwsh']),
  powershellPatterns: stringList([
    'New-SelfSignedCertificate',
    'X509Certificate2',
    'System.Security.Cryptography.X509Certificates',
    'CertificateRequest',
    'RSACryptoServiceProvider',
    'ECDsaCng',
    'Import-Certificate',
    'Import-PfxCertificate',
  ]),
  certutilNames: stringList(['certutil.exe']),
  /** certutil verbs that import (with - or / in front). */
  certutilImportVerbs: stringList(['addstore', 'addrepo', 'mergepfx', 'importpfx', 'importcert', 'installcert', 'p12']),
  /** Store names that make an import a trust decision (Cert:\…\<store>, certutil -addstore <store>). */
  trustStores: stringList(['Root', 'AuthRoot', 'CA', 'TrustedPublisher', 'TrustedPeople']),
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
    })
    .prefault({}),
  /** Rows surface when their score is above this. */
  minScore: z.number().default(1),
});
export type T1587003Params = z.output<typeof t1587003ParamsSchema>;

const PROCESS_COLUMNS = [
  'TimeGenerated',
  'DeviceId',
  'DeviceName',
  'ActionType',
  'AccountDomain',
  'AccountName',
  'FileName',
  'FolderPath',
  'SHA1',
  'ProcessCommandLine',
  'InitiatingProcessFileName',
  'InitiatingProcessCommandLine',
  'InitiatingProcessParentFileName',
  'ReportId',
] as const;
const FILE_COLUMNS = [
  'TimeGenerated',
  'DeviceId',
  'DeviceName',
  'ActionType',
  'FileName',
  'FolderPath',
  'SHA1',
  'InitiatingProcessAccountDomain',
  'InitiatingProcessAccountName',
  'InitiatingProcessFileName',
  'InitiatingProcessCommandLine',
  'InitiatingProcessParentFileName',
  'ReportId',
] as const;
const RAW_COLUMNS = unique<string>([...PROCESS_COLUMNS, ...FILE_COLUMNS]);

const TIME_COLUMNS = ['TimeGenerated', 'Timestamp'];

const anyOf = (values: readonly string[]) => `(?:${values.map(escapeRegex).join('|')})`;
/** A command-line argument value: "quoted", 'quoted' or bare (groups 1, 2, 3). */
const ARG = `(?:"([^"]*)"|'([^']*)'|([^\\s"']+))`;
const SUBJ_OPTION = `(?:^|\\s)-subj\\s+${ARG}`;
const SUBJECT_OPTION = `(?:^|\\s)-Subject\\s+${ARG}`;
const MAKECERT_NAME = `(?:^|\\s)[-/]n\\s+${ARG}`;
const DNSNAME_LIST = `-DnsName\\s+((?:@\\(\\s*)?(?:"[^"]*"|'[^']*'|[^\\s,"'()]+)(?:\\s*,\\s*(?:"[^"]*"|'[^']*'|[^\\s,"'()]+))*)`;
const DNSNAME_ITEM = `([^\\s,"'@()]+)`;
const SAN_EXT = `subjectAltName\\s*=\\s*([^"'\\s]+)`;
const SAN_DNS = `dns:([^,"'\\s]+)`;
const CN_VALUE = '(?:^|[,/])[ \\t]*CN=([^,/]*)';
/** Self-signed by construction: makecert -r, openssl req -x509 / x509 -signkey without -CA, New-SelfSignedCertificate without -Signer. */
const MAKECERT_SELF_SIGNED = '(?:^|\\s)[-/]r(?:\\s|$)';
const OPENSSL_SELF_SIGNED = '(?:^|\\s)(?:req\\s(?:.*\\s)?-x509|x509\\s(?:.*\\s)?-signkey)(?:\\s|$)';
const OPENSSL_CA_OPTION = '(?:^|\\s)-CA\\s';
const PS_SELF_SIGNED = 'New-SelfSignedCertificate';
const PS_SIGNER_OPTION = '(?:^|\\s)-Signer(?:\\s|:|$)';

/** A store named where a command puts a certificate: Cert:\<location>\<store>, or certutil -addstore [-f …] <store>. */
function trustStoreRegex(p: T1587003Params): string {
  return `(?:cert:\\\\(?:localmachine|currentuser)\\\\|[-/]addstore\\s+(?:[-/]\\S+\\s+)*["']?)${anyOf(p.trustStores)}(?:["'\\s\\\\]|$)`;
}
function certutilVerbRegex(p: T1587003Params): string {
  return `(?:^|\\s)[-/]${anyOf(p.certutilImportVerbs)}(?:\\s|$)`;
}
function extensionRegex(extensions: readonly string[]): string {
  return `${anyOf(extensions)}$`;
}

/** KQL: the value of an option whose argument may be quoted either way or bare. */
function kqlOptionValue(source: string, column: string): string {
  const re = kqlString(kqlRegex(source));
  return `coalesce(extract(${re}, 1, ${column}), extract(${re}, 2, ${column}), extract(${re}, 3, ${column}))`;
}

function buildQuery(p: T1587003Params, window?: QueryWindow): string {
  const filter = timeFilter(p.lookback, window);
  const w = p.weights;
  const processProjection = `| project ${PROCESS_COLUMNS.join(', ')}, DetectionBranch, TargetsTrustStore, CommandLineForNames = ProcessCommandLine`;
  return [
    `// ${ID} Develop Digital Certificates: certificate tooling, PowerShell/.NET certificate creation, certutil store imports, staged certificate files`,
    `let CertTools = ${kqlStringList(p.certTools)};`,
    `let OpensslNames = ${kqlStringList(p.opensslNames)};`,
    `let PowerShellNames = ${kqlStringList(p.powershellNames)};`,
    `let CertutilNames = ${kqlStringList(p.certutilNames)};`,
    `let FileActionTypes = ${kqlStringList(p.fileActionTypes)};`,
    `let OpensslPattern = ${kqlString(kqlRegex(anyOf(p.opensslPatterns)))};`,
    `let PowerShellPattern = ${kqlString(kqlRegex(anyOf(p.powershellPatterns)))};`,
    `let CertutilImportPattern = ${kqlString(kqlRegex(certutilVerbRegex(p)))};`,
    `let TrustStorePattern = ${kqlString(kqlRegex(trustStoreRegex(p)))};`,
    `let CertFilePattern = ${kqlString(kqlRegex(extensionRegex(p.certFileExtensions)))};`,
    `let PrivateKeyFilePattern = ${kqlString(kqlRegex(extensionRegex(p.privateKeyExtensions)))};`,
    `let SuspiciousFolderPattern = ${kqlString(kqlRegex(anyOf(p.suspiciousFolders)))};`,
    'let CertToolExecution = DeviceProcessEvents',
    filter,
    '| where FileName in~ (CertTools) or (FileName in~ (OpensslNames) and ProcessCommandLine matches regex OpensslPattern)',
    `| extend DetectionBranch = ${kqlString(BRANCHES.tool)}, TargetsTrustStore = false`,
    `${processProjection};`,
    'let PSCertificateCreation = DeviceProcessEvents',
    filter,
    '| where FileName in~ (PowerShellNames) and ProcessCommandLine matches regex PowerShellPattern',
    `| extend DetectionBranch = ${kqlString(BRANCHES.powershell)}, TargetsTrustStore = ProcessCommandLine matches regex TrustStorePattern`,
    `${processProjection};`,
    'let CertUtilStoreImport = DeviceProcessEvents',
    filter,
    '| where FileName in~ (CertutilNames) and ProcessCommandLine matches regex CertutilImportPattern',
    `| extend DetectionBranch = ${kqlString(BRANCHES.certutil)}, TargetsTrustStore = ProcessCommandLine matches regex TrustStorePattern`,
    `${processProjection};`,
    'let SuspiciousCertFileCreation = DeviceFileEvents',
    filter,
    '| where ActionType in~ (FileActionTypes) and FileName matches regex CertFilePattern and FolderPath matches regex SuspiciousFolderPattern',
    `| extend DetectionBranch = ${kqlString(BRANCHES.file)}, TargetsTrustStore = false`,
    `| project ${FILE_COLUMNS.join(', ')}, DetectionBranch, TargetsTrustStore, CommandLineForNames = InitiatingProcessCommandLine;`,
    'union CertToolExecution, PSCertificateCreation, CertUtilStoreImport, SuspiciousCertFileCreation',
    `| extend CertSubject = coalesce(${kqlOptionValue(SUBJ_OPTION, 'CommandLineForNames')}, ${kqlOptionValue(SUBJECT_OPTION, 'CommandLineForNames')}, ${kqlOptionValue(MAKECERT_NAME, 'CommandLineForNames')})`,
    `| extend CertSubjectCN = extract(${kqlString(kqlRegex(CN_VALUE))}, 1, CertSubject)`,
    `| extend DnsNameList = extract(${kqlString(kqlRegex(DNSNAME_LIST))}, 1, CommandLineForNames)`,
    `| extend SanList = extract(${kqlString(kqlRegex(SAN_EXT))}, 1, CommandLineForNames)`,
    `| extend CertDnsNames = array_concat(iff(isempty(DnsNameList), dynamic([]), extract_all(${kqlString(DNSNAME_ITEM)}, DnsNameList)), iff(isempty(SanList), dynamic([]), extract_all(${kqlString(kqlRegex(SAN_DNS))}, SanList)))`,
    '| extend IsPrivateKeyFile = DetectionBranch == ' + kqlString(BRANCHES.file) + ' and FileName matches regex PrivateKeyFilePattern',
    `| extend CertRiskScore = case(DetectionBranch == ${kqlString(BRANCHES.tool)}, ${kqlReal(w.cert_tool_execution)}, DetectionBranch == ${kqlString(BRANCHES.powershell)}, ${kqlReal(w.powershell_certificate_creation)}, DetectionBranch == ${kqlString(BRANCHES.certutil)}, ${kqlReal(w.certutil_store_import)}, ${kqlReal(w.cert_file_in_staging_folder)})` +
      ` + iff(TargetsTrustStore, ${kqlReal(w.trust_store_target)}, real(0)) + iff(IsPrivateKeyFile, ${kqlReal(w.private_key_file)}, real(0))`,
    `| where CertRiskScore > ${kqlReal(p.minScore)}`,
    `| project ${RAW_COLUMNS.join(', ')},`,
    '    DetectionBranch, TargetsTrustStore, IsPrivateKeyFile, CertSubject, CertSubjectCN, CertDnsNames, CertRiskScore',
    '| sort by TimeGenerated desc',
  ].join('\n');
}

const SUBJ_OPTION_RE = jsRegex(SUBJ_OPTION);
const SUBJECT_OPTION_RE = jsRegex(SUBJECT_OPTION);
const MAKECERT_NAME_RE = jsRegex(MAKECERT_NAME);
const CN_VALUE_RE = jsRegex(CN_VALUE);
const DNSNAME_LIST_RE = jsRegex(DNSNAME_LIST);
const SAN_EXT_RE = jsRegex(SAN_EXT);
// Global ones are only ever used through matchAll, which clones them, so sharing is safe.
const DNSNAME_ITEMS = new RegExp(DNSNAME_ITEM, 'g');
const SAN_DNS_NAMES = new RegExp(SAN_DNS, 'ig');

/** What the twin needs from the parameters, built once per parameters object instead of once per row. */
interface Compiled {
  certTools: Set<string>;
  opensslNames: Set<string>;
  powershellNames: Set<string>;
  certutilNames: Set<string>;
  fileActionTypes: Set<string>;
  openssl: RegExp;
  powershell: RegExp;
  certutilVerb: RegExp;
  trustStore: RegExp;
  certFile: RegExp;
  privateKeyFile: RegExp;
  suspiciousFolder: RegExp;
}

const compiledByParams = new WeakMap<T1587003Params, Compiled>();
const lowerSet = (values: readonly string[]) => new Set(values.map((v) => v.toLowerCase()));

function compiled(p: T1587003Params): Compiled {
  let c = compiledByParams.get(p);
  if (!c) {
    c = {
      certTools: lowerSet(p.certTools),
      opensslNames: lowerSet(p.opensslNames),
      powershellNames: lowerSet(p.powershellNames),
      certutilNames: lowerSet(p.certutilNames),
      fileActionTypes: lowerSet(p.fileActionTypes),
      openssl: jsRegex(anyOf(p.opensslPatterns)),
      powershell: jsRegex(anyOf(p.powershellPatterns)),
      certutilVerb: jsRegex(certutilVerbRegex(p)),
      trustStore: jsRegex(trustStoreRegex(p)),
      certFile: jsRegex(extensionRegex(p.certFileExtensions)),
      privateKeyFile: jsRegex(extensionRegex(p.privateKeyExtensions)),
      suspiciousFolder: jsRegex(anyOf(p.suspiciousFolders)),
    };
    compiledByParams.set(p, c);
  }
  return c;
}

function optionValue(re: RegExp, value: string): string {
  const m = re.exec(value);
  return m ? (m[1] ?? m[2] ?? m[3] ?? '') : '';
}

/** Subject, CN and DNS names a command line gives for the certificate it makes. */
export function certificateNamesFromCommandLine(commandLine: string): { subject: string; commonName: string; dnsNames: string[] } {
  const subject = optionValue(SUBJ_OPTION_RE, commandLine) || optionValue(SUBJECT_OPTION_RE, commandLine) || optionValue(MAKECERT_NAME_RE, commandLine);
  const commonName = CN_VALUE_RE.exec(subject)?.[1] ?? '';
  const dnsList = DNSNAME_LIST_RE.exec(commandLine)?.[1] ?? '';
  const sanList = SAN_EXT_RE.exec(commandLine)?.[1] ?? '';
  const dnsNames = [...[...dnsList.matchAll(DNSNAME_ITEMS)].map((m) => m[1] as string), ...[...sanList.matchAll(SAN_DNS_NAMES)].map((m) => m[1] as string)];
  return { subject, commonName, dnsNames };
}

/** Whether the command makes a certificate that signs itself (what the tool does, not what the subject says). */
export function selfSignedByCommandLine(processFileName: string, commandLine: string, p: T1587003Params): boolean {
  const name = baseName(processFileName).toLowerCase();
  if (name === 'makecert.exe' || name === 'makecert') return jsRegex(MAKECERT_SELF_SIGNED).test(commandLine);
  const c = compiled(p);
  if (c.opensslNames.has(name)) return jsRegex(OPENSSL_SELF_SIGNED).test(commandLine) && !jsRegex(OPENSSL_CA_OPTION).test(commandLine);
  if (c.powershellNames.has(name)) return jsRegex(PS_SELF_SIGNED).test(commandLine) && !jsRegex(PS_SIGNER_OPTION).test(commandLine);
  return false;
}

/** Which branch a row belongs to, or null. A row is a file event when its ActionType says so. */
function branchOf(row: Row, c: Compiled): { branch: string; isFile: boolean; trustStore: boolean } | null {
  const actionType = text(row, 'ActionType') ?? '';
  const fileName = text(row, 'FileName') ?? '';
  if (/^file/i.test(actionType)) {
    const folder = text(row, 'FolderPath') ?? '';
    const ok = c.fileActionTypes.has(actionType.toLowerCase()) && c.certFile.test(fileName) && c.suspiciousFolder.test(folder);
    return ok ? { branch: BRANCHES.file, isFile: true, trustStore: false } : null;
  }
  const cmd = text(row, 'ProcessCommandLine') ?? '';
  const trustStore = c.trustStore.test(cmd);
  const file = fileName.toLowerCase();
  if (c.certTools.has(file) || (c.opensslNames.has(file) && c.openssl.test(cmd))) {
    return { branch: BRANCHES.tool, isFile: false, trustStore: false };
  }
  if (c.powershellNames.has(file) && c.powershell.test(cmd)) {
    return { branch: BRANCHES.powershell, isFile: false, trustStore };
  }
  if (c.certutilNames.has(file) && c.certutilVerb.test(cmd)) {
    return { branch: BRANCHES.certutil, isFile: false, trustStore };
  }
  return null;
}

function evaluate(row: Row, p: T1587003Params): Evaluation | null {
  const c = compiled(p);
  const hit = branchOf(row, c);
  if (!hit) return null;
  const fileName = text(row, 'FileName') ?? '';
  const commandLine = text(row, hit.isFile ? 'InitiatingProcessCommandLine' : 'ProcessCommandLine') ?? '';
  const names = certificateNamesFromCommandLine(commandLine);
  const selfSigned = selfSignedByCommandLine((hit.isFile ? text(row, 'InitiatingProcessFileName') : fileName) ?? '', commandLine, p);
  const privateKey = hit.isFile && c.privateKeyFile.test(fileName);
  const w = p.weights;

  const signals: Signal[] = [];
  const process = hit.isFile ? (text(row, 'InitiatingProcessFileName') ?? 'a process') : fileName;
  switch (hit.branch) {
    case BRANCHES.tool:
      signals.push({ id: 'cert_tool_execution', points: w.cert_tool_execution, reason: `${fileName} ran with certificate or key generation arguments` });
      break;
    case BRANCHES.powershell:
      signals.push({ id: 'powershell_certificate_creation', points: w.powershell_certificate_creation, reason: `${fileName} used certificate cmdlets or .NET X.509 APIs` });
      break;
    case BRANCHES.certutil:
      signals.push({ id: 'certutil_store_import', points: w.certutil_store_import, reason: `${fileName} imported a certificate into a store` });
      break;
    default:
      signals.push({ id: 'cert_file_in_staging_folder', points: w.cert_file_in_staging_folder, reason: `${process} wrote ${fileName} to a staging folder` });
  }
  if (hit.trustStore) signals.push({ id: 'trust_store_target', points: w.trust_store_target, reason: 'the command targets a trust store (Root, AuthRoot, CA, trusted publishers or people)' });
  if (privateKey) signals.push({ id: 'private_key_file', points: w.private_key_file, reason: `${fileName} holds a private key` });
  const score = signals.reduce((s, x) => s + x.points, 0);
  if (!(score > p.minScore)) return null;

  const time = eventTime(row, TIME_COLUMNS);
  const host = text(row, 'DeviceName');
  const domain = text(row, hit.isFile ? 'InitiatingProcessAccountDomain' : 'AccountDomain');
  const user = text(row, hit.isFile ? 'InitiatingProcessAccountName' : 'AccountName');
  const account = user ? (domain ? `${domain}\\${user}` : user) : undefined;
  const folder = text(row, 'FolderPath');
  const sha1 = text(row, 'SHA1')?.toLowerCase();
  const parent = text(row, hit.isFile ? 'InitiatingProcessParentFileName' : 'InitiatingProcessFileName');
  const processName = hit.isFile ? text(row, 'InitiatingProcessFileName') : fileName;
  const domains = unique([names.commonName, ...names.dnsNames].map((d) => d.toLowerCase().replace(/^\*\./, '')).filter(isDnsName));
  const filePath = hit.isFile && folder ? (baseName(folder).toLowerCase() === fileName.toLowerCase() ? folder : `${folder.replace(/[\\/]$/, '')}\\${fileName}`) : undefined;
  // Optional fields are assigned one by one, in the order they always had: a conditional
  // spread per field costs more than the rest of the row's work.
  const entities = {} as Entities;
  if (host) entities.host = host;
  if (account) entities.account = account;
  if (processName) entities.processName = processName;
  if (commandLine) entities.commandLine = commandLine;
  if (parent) entities.parentProcessName = parent;
  if (filePath) entities.filePath = filePath;
  if (hit.isFile && sha1) entities.fileHashSha1 = sha1;
  entities.domains = domains;
  const evaluation: Evaluation = {
    key: stableKey(ID, [time, text(row, 'DeviceId') ?? host, hit.branch, fileName, folder, commandLine, text(row, 'ReportId')]),
    time,
    signals,
    indicators: {
      DetectionBranch: hit.branch,
      TargetsTrustStore: hit.trustStore,
      IsPrivateKeyFile: privateKey,
      CertSubject: names.subject || null,
      CertSubjectCN: names.commonName || null,
      CertDnsNames: names.dnsNames.join(',') || null,
      CertRiskScore: score,
    },
    entities,
  };
  if (names.subject || names.dnsNames.length || selfSigned) {
    const certificate: CertificateObservation = {};
    if (names.subject) certificate.subject = names.subject;
    if (names.commonName) certificate.subjectCommonName = names.commonName;
    if (names.dnsNames.length) certificate.sans = names.dnsNames;
    if (selfSigned) certificate.selfSigned = true;
    evaluation.certificate = certificate;
  }
  return evaluation;
}

export const t1587003: Detection<T1587003Params> = {
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
  paramsSchema: t1587003ParamsSchema,
  buildQuery,
  evaluate,
  projectedColumns: RAW_COLUMNS,
  scheduleSetting: 'HUNT_SCHEDULE_T1587_003',
};
