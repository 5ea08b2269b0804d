import { z } from 'zod';
import { durationText, stringList } from '../common.js';
import { and, caseOf, coalesce, col, endsWith, eq, extend, extract, iff, inCi, isIn, isNotEmpty, lit, matches, not, or, param, re, startsWith, strcat, tolower, where } from '../definition/build.js';
import { detectionFromDefinition } from '../definition/detection.js';
import type { DetectionDefinition, Expr } from '../definition/types.js';

/**
 * T1588.004 Digital Certificates, seen where an obtained certificate gets used: a write to a
 * Windows trust store (Root, AuthRoot, CA) in the registry (DeviceRegistryEvents) by a process
 * outside the approved list. Machine, user (every hive spelling: HKCU, HKEY_CURRENT_USER\<sid>,
 * HKU\<sid>, HKEY_USERS\<sid>, \REGISTRY\USER\<sid>), group-policy and enterprise paths are all
 * covered. Only writes that store a certificate count (a key under Certificates\<thumbprint> or its
 * Blob value); approved writers are recognised by image path, and script hosts also by the
 * original file name compiled into the binary (Defender's InitiatingProcessVersionInfoOriginalFileName,
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceregistryevents-table).
 *
 * Points (certsoar's choice; the reference page gives no weights):
 * - root_store_write 3: a trusted root (Root or AuthRoot) makes every certificate it signs
 *   trusted, the adversary-in-the-middle and code-signing enabler.
 * - intermediate_store_write 2: an intermediate CA is only trusted through a root; less direct.
 * - script_host_writer 2: the writer is a script host or LOLBin (PowerShell, cmd, certutil, …):
 *   deployment tooling uses installers and agents, hands-on-keyboard activity uses these.
 * - user_or_policy_store 1: the user hive (no admin rights needed, hides from machine-store
 *   audits) or a group-policy/enterprise path written by something other than policy processing.
 * Levels follow the shared thresholds: certutil adding a root is 5 (High), an unknown binary
 * adding a root 3 (Medium), an unknown binary adding an intermediate 2 (Low).
 */

const ID = 'T1588.004';

const STORE_TYPE: Record<string, string> = {
  root: 'Trusted Root CA',
  authroot: 'Third-party Root (AuthRoot)',
  ca: 'Intermediate CA',
  trustedpublisher: 'Trusted Publisher',
  trustedpeople: 'Trusted People',
};

export const t1588004ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  actionTypes: stringList(['RegistryValueSet', 'RegistryKeyCreated']),
  stores: z.array(z.enum(['Root', 'AuthRoot', 'CA', 'TrustedPublisher', 'TrustedPeople'])).min(1).default(['Root', 'AuthRoot', 'CA']),
  /**
   * Operating-system components that maintain the stores. A writer is approved only when its file
   * name is listed here AND its image path matches approvedProcessPaths: a file name alone is the
   * adversary's choice (svchost.exe in Temp is not svchost).
   */
  approvedProcesses: stringList(['svchost.exe', 'lsass.exe', 'wuauclt.exe', 'TrustedInstaller.exe', 'MicrosoftEdgeUpdate.exe', 'MsMpEng.exe', 'SgrmBroker.exe']),
  /** Image paths of approved writers without the drive letter (case-insensitive globs; `*` = any run of characters). */
  approvedProcessPaths: stringList([
    '\\Windows\\System32\\svchost.exe',
    '\\Windows\\System32\\lsass.exe',
    '\\Windows\\System32\\wuauclt.exe',
    '\\Windows\\servicing\\TrustedInstaller.exe',
    '\\Windows\\System32\\SgrmBroker.exe',
    '\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe',
    '\\ProgramData\\Microsoft\\Windows Defender\\Platform\\*\\MsMpEng.exe',
  ]),
  /**
   * Script hosts and LOLBins, matched on the file name or on the name compiled into the binary
   * (InitiatingProcessVersionInfoOriginalFileName), so a renamed copy is still recognised.
   */
  scriptHosts: stringList(['powershell.exe', 'pwsh.exe', 'pwsh.dll', 'powershell_ise.exe', 'cmd.exe', 'certutil.exe', 'rundll32.exe', 'mshta.exe', 'wscript.exe', 'cscript.exe', 'reg.exe', 'regedit.exe', 'certmgr.exe']),
  /** Thumbprints (SHA-1 hex) of certificates the organisation deploys on purpose. */
  allowedThumbprints: z.array(z.string().regex(/^[0-9a-fA-F]{40}$/, 'expected a 40-hex-digit SHA-1 thumbprint')).default([]),
  weights: z
    .strictObject({
      root_store_write: z.number().default(3),
      intermediate_store_write: z.number().default(2),
      script_host_writer: z.number().default(2),
      user_or_policy_store: z.number().default(1),
    })
    .prefault({}),
  /** Rows surface when their score is above this. */
  minScore: z.number().default(1),
});
export type T1588004Params = z.output<typeof t1588004ParamsSchema>;

const COLUMNS = {
  TimeGenerated: 'datetime',
  DeviceId: 'string',
  DeviceName: 'string',
  ActionType: 'string',
  RegistryKey: 'string',
  RegistryValueName: 'string',
  InitiatingProcessFileName: 'string',
  InitiatingProcessVersionInfoOriginalFileName: 'string',
  InitiatingProcessFolderPath: 'string',
  InitiatingProcessCommandLine: 'string',
  InitiatingProcessSHA1: 'string',
  InitiatingProcessAccountDomain: 'string',
  InitiatingProcessAccountName: 'string',
  InitiatingProcessParentFileName: 'string',
  ReportId: 'long',
  // For Sentinel's Process and Account entities (rules mode) and the findings row; no signal reads them.
  InitiatingProcessId: 'long',
  InitiatingProcessCreationTime: 'datetime',
  InitiatingProcessAccountSid: 'string',
} as const;

/** Groups: 1 hive, 2 path under SOFTWARE, 3 store name. */
const STORE_KEY = re(
  // Every spelling of the hives: Defender's HKEY_CURRENT_USER\\<SID>, Sysmon's HKU\\<SID>, HKEY_USERS\\<SID>,
  // the kernel's \\REGISTRY\\USER\\<SID> and \\REGISTRY\\MACHINE, and the machine abbreviations.
  '^(hkey_local_machine|hklm|\\\\registry\\\\machine|hkey_current_user(?:\\\\s-1-[0-9-]+(?:_classes)?)?|hkcu|hku\\\\[^\\\\]+|hkey_users\\\\[^\\\\]+|\\\\registry\\\\user\\\\[^\\\\]+)' +
    '\\\\software\\\\(?:wow6432node\\\\)?(policies\\\\microsoft\\\\systemcertificates|microsoft\\\\systemcertificates|microsoft\\\\enterprisecertificates)' +
    '\\\\({{stores}})(?:\\\\|$)',
);
const THUMBPRINT = re('\\\\certificates\\\\([0-9a-f]{40})(?:\\\\|$)');
const USER_HIVE = re('^(?:hkey_current_user|hkcu|hku|hkey_users|\\\\registry\\\\user)');
/** The initiating process's image: FolderPath holds the full path in Defender's tables; a folder alone gets the file name added. */
const WRITER_IMAGE = iff(
  matches(col('InitiatingProcessFolderPath'), re('\\.exe$')),
  col('InitiatingProcessFolderPath'),
  strcat(col('InitiatingProcessFolderPath'), lit('\\'), col('InitiatingProcessFileName')),
);

/** DOMAIN\user when both are known, the user alone otherwise. */
export const accountOf = (domain: Expr, user: Expr): Expr => iff(isNotEmpty(user), iff(isNotEmpty(domain), strcat(domain, lit('\\'), user), user), lit(''));

export const t1588004Definition: DetectionDefinition<T1588004Params> = {
  meta: {
    id: ID,
    title: 'Certificate added to a Windows trust store by an unexpected process (Obtain Digital Certificates)',
    description:
      'Flags registry writes that add a certificate to the Trusted Root, third-party root or intermediate CA stores, in the ' +
      'machine, user, group-policy or enterprise locations, when the writing process is not one of the operating-system ' +
      'components that maintain those stores. A certificate an adversary bought or stole becomes useful for interception, ' +
      'command-and-control trust or signed payloads once the victim trusts its issuer.',
    technique: { id: ID, name: 'Obtain Capabilities: Digital Certificates', url: 'https://attack.mitre.org/techniques/T1588/004/' },
    tactics: ['ResourceDevelopment'],
    severity: 'Medium',
    confidence: 'medium',
    tables: ['DeviceRegistryEvents'],
    connectors: ['MicrosoftThreatProtection'],
    queryFrequency: '1h',
    queryPeriod: '24h',
    schedule: '0 5 * * * *',
    falsePositives: [
      'Software deployment (SCCM, Intune, group policy, msiexec and application installers) pushing the corporate root CA.',
      'Browser updaters (Chrome, Edge, Firefox) refreshing the root programme they ship.',
      'VPN clients and TLS-inspection agents (Zscaler, Netskope, Blue Coat) installing their interception root when deployed.',
      'Security products (EDR, DLP) adding their own root CA for local HTTPS inspection during enrolment.',
    ],
    references: [
      'https://attack.mitre.org/techniques/T1588/004/',
      'https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceregistryevents-table',
      'https://learn.microsoft.com/windows-server/administration/windows-commands/certutil',
      'https://learn.microsoft.com/powershell/module/pki/import-certificate',
    ],
  },
  params: t1588004ParamsSchema,
  lookback: 'lookback',
  minScore: 'minScore',
  branches: [
    {
      name: 'TrustStoreWrites',
      table: 'DeviceRegistryEvents',
      columns: COLUMNS,
      timeColumn: 'TimeGenerated',
      steps: [
        where(inCi(col('ActionType'), param('actionTypes'))),
        where(matches(col('RegistryKey'), STORE_KEY)),
        // Only a write that stores a certificate: a key under Certificates\\<thumbprint> or its Blob value.
        // Creating the store's container key (…\\Root, …\\Root\\Certificates) is not one.
        where(matches(col('RegistryKey'), THUMBPRINT)),
        extend('WriterImagePath', WRITER_IMAGE),
        extend(
          'IsApprovedWriter',
          and(inCi(col('InitiatingProcessFileName'), param('approvedProcesses')), matches(col('WriterImagePath'), re('^[a-z]:{{approvedProcessPaths:glob}}$'))),
        ),
        where(not(col('IsApprovedWriter'))),
      ],
    },
  ],
  steps: [
    extend('CertStoreHive', tolower(extract(STORE_KEY, 1, col('RegistryKey')))),
    extend('CertStorePath', tolower(extract(STORE_KEY, 2, col('RegistryKey')))),
    extend('CertStoreName', tolower(extract(STORE_KEY, 3, col('RegistryKey')))),
    extend('CertThumbprint', tolower(extract(THUMBPRINT, 1, col('RegistryKey')))),
    extend('CertStoreType', caseOf(Object.entries(STORE_TYPE).map(([k, v]) => [eq(col('CertStoreName'), lit(k)), lit(v)]), col('CertStoreName'))),
    extend('IsUserStore', matches(col('CertStoreHive'), USER_HIVE)),
    extend('IsPolicyStore', startsWith(col('CertStorePath'), 'policies')),
    extend('IsEnterpriseStore', endsWith(col('CertStorePath'), 'enterprisecertificates')),
    extend('IsScriptHost', or(inCi(col('InitiatingProcessFileName'), param('scriptHosts')), inCi(col('InitiatingProcessVersionInfoOriginalFileName'), param('scriptHosts')))),
  ],
  signals: [
    {
      id: 'root_store_write',
      when: isIn(col('CertStoreName'), lit(['root', 'authroot'])),
      weight: 'weights.root_store_write',
      reason: 'certificate {CertThumbprint} written to the {CertStoreType} store under {CertStoreHive}',
    },
    {
      id: 'intermediate_store_write',
      when: eq(col('CertStoreName'), lit('ca')),
      weight: 'weights.intermediate_store_write',
      reason: 'certificate {CertThumbprint} written to the {CertStoreType} store under {CertStoreHive}',
    },
    {
      id: 'script_host_writer',
      when: col('IsScriptHost'),
      weight: 'weights.script_host_writer',
      reason: 'the store was written by {InitiatingProcessFileName} (built as {InitiatingProcessVersionInfoOriginalFileName}), a script host or LOLBin',
    },
    {
      id: 'user_or_policy_store',
      when: or(col('IsUserStore'), col('IsPolicyStore'), col('IsEnterpriseStore')),
      weight: 'weights.user_or_policy_store',
      reason: "the write went to a user's own hive, the group-policy path or the enterprise store path ({CertStoreHive}\\software\\{CertStorePath})",
    },
  ],
  scoreColumn: 'CertRiskScore',
  allow: [inCi(col('CertThumbprint'), param('allowedThumbprints'))],
  project: [...Object.keys(COLUMNS), 'WriterImagePath', 'CertStoreType', 'CertStoreName', 'CertThumbprint', 'IsUserStore', 'IsPolicyStore', 'IsEnterpriseStore', 'IsScriptHost', 'CertRiskScore'],
  sort: [
    { column: 'CertRiskScore', order: 'desc' },
    { column: 'TimeGenerated', order: 'desc' },
  ],
  time: ['TimeGenerated', 'Timestamp'],
  key: [coalesce(col('DeviceId'), col('DeviceName')), col('ActionType'), col('RegistryKey'), col('RegistryValueName'), col('InitiatingProcessFileName'), col('ReportId')],
  indicators: {
    CertStoreType: col('CertStoreType'),
    CertStoreName: col('CertStoreName'),
    CertThumbprint: col('CertThumbprint'),
    IsUserStore: col('IsUserStore'),
    IsPolicyStore: col('IsPolicyStore'),
    IsEnterpriseStore: col('IsEnterpriseStore'),
    IsScriptHost: col('IsScriptHost'),
    CertRiskScore: col('CertRiskScore'),
    // What suppressions key on: where the writer runs from and what it was built as, not its file name.
    WriterImagePath: col('WriterImagePath'),
    WriterOriginalFileName: col('InitiatingProcessVersionInfoOriginalFileName'),
    WriterSHA1: col('InitiatingProcessSHA1'),
  },
  entities: {
    host: col('DeviceName'),
    account: accountOf(col('InitiatingProcessAccountDomain'), col('InitiatingProcessAccountName')),
    processName: col('InitiatingProcessFileName'),
    commandLine: col('InitiatingProcessCommandLine'),
    parentProcessName: col('InitiatingProcessParentFileName'),
    registryKey: col('RegistryKey'),
    domains: lit([] as string[]),
  },
  certificate: { sha1: col('CertThumbprint'), store: col('CertStoreType') },
  scheduleSetting: 'HUNT_SCHEDULE_T1588_004',
};

export const t1588004 = detectionFromDefinition(t1588004Definition);
