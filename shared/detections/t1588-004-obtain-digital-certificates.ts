import { z } from 'zod';
import type { CertificateObservation, Entities, Row, Signal } from '../model.js';
import { kqlReal, kqlString, kqlStringList } from '../kql/literals.js';
import { escapeRegex, jsRegex, kqlRegex } from '../kql/regex.js';
import { durationText, eventTime, stableKey, stringList, text, timeFilter } from './common.js';
import type { Detection, Evaluation, QueryWindow } from './types.js';

/**
 * T1588.004 Digital Certificates, seen where an obtained certificate gets used: a write to a
 * Windows trust store (Root, AuthRoot, CA) in the registry (DeviceRegistryEvents) by a process
 * outside the approved list. Machine, user (HKCU, HKEY_USERS\<sid>), group-policy and
 * enterprise paths are all covered.
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
const ROOT_STORES = new Set(['root', 'authroot']);

export const t1588004ParamsSchema = z.strictObject({
  lookback: durationText('24h'),
  actionTypes: stringList(['RegistryValueSet', 'RegistryKeyCreated']),
  stores: z.array(z.enum(['Root', 'AuthRoot', 'CA', 'TrustedPublisher', 'TrustedPeople'])).min(1).default(['Root', 'AuthRoot', 'CA']),
  /** Initiating processes that maintain the stores as part of the OS (exact file names, case-insensitive). */
  approvedProcesses: stringList(['svchost.exe', 'lsass.exe', 'wuauclt.exe', 'TrustedInstaller.exe', 'MicrosoftEdgeUpdate.exe', 'MsMpEng.exe', 'SgrmBroker.exe']),
  scriptHosts: stringList(['powershell.exe', 'pwsh.exe', 'powershell_ise.exe', 'cmd.exe', 'certutil.exe', 'rundll32.exe', 'mshta.exe', 'wscript.exe', 'cscript.exe', 'reg.exe', 'regedit.exe', 'certmgr.exe']),
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

const TIME_COLUMNS = ['TimeGenerated', 'Timestamp'];

const RAW_COLUMNS = [
  'TimeGenerated',
  'DeviceId',
  'DeviceName',
  'ActionType',
  'RegistryKey',
  'RegistryValueName',
  'InitiatingProcessFileName',
  'InitiatingProcessFolderPath',
  'InitiatingProcessCommandLine',
  'InitiatingProcessSHA1',
  'InitiatingProcessAccountDomain',
  'InitiatingProcessAccountName',
  'InitiatingProcessParentFileName',
  'ReportId',
] as const;

/** Groups: 1 hive, 2 path under SOFTWARE, 3 store name. */
function storeKeyRegex(p: T1588004Params): string {
  const hive = '(hkey_local_machine|hklm|hkey_current_user|hkcu|hkey_users\\\\[^\\\\]+|\\\\registry\\\\machine|\\\\registry\\\\user\\\\[^\\\\]+)';
  const path = '(policies\\\\microsoft\\\\systemcertificates|microsoft\\\\systemcertificates|microsoft\\\\enterprisecertificates)';
  const store = `(${p.stores.map((s) => escapeRegex(s.toLowerCase())).join('|')})`;
  return `^${hive}\\\\software\\\\(?:wow6432node\\\\)?${path}\\\\${store}(?:\\\\|$)`;
}
const THUMBPRINT = '\\\\certificates\\\\([0-9a-f]{40})(?:\\\\|$)';
const USER_HIVE = '^(?:hkey_current_user|hkcu|hkey_users|\\\\registry\\\\user)';
const THUMBPRINT_RE = jsRegex(THUMBPRINT);
const USER_HIVE_RE = jsRegex(USER_HIVE);

/** What the twin needs from the parameters, built once per parameters object instead of once per row. */
interface Compiled {
  actionTypes: Set<string>;
  store: RegExp;
  approvedProcesses: Set<string>;
  scriptHosts: Set<string>;
  allowedThumbprints: Set<string>;
}

const compiledByParams = new WeakMap<T1588004Params, Compiled>();
const lowerSet = (values: readonly string[]) => new Set(values.map((v) => v.toLowerCase()));

function compiled(p: T1588004Params): Compiled {
  let c = compiledByParams.get(p);
  if (!c) {
    c = {
      actionTypes: lowerSet(p.actionTypes),
      store: jsRegex(storeKeyRegex(p)),
      approvedProcesses: lowerSet(p.approvedProcesses),
      scriptHosts: lowerSet(p.scriptHosts),
      allowedThumbprints: lowerSet(p.allowedThumbprints),
    };
    compiledByParams.set(p, c);
  }
  return c;
}

function buildQuery(p: T1588004Params, window?: QueryWindow): string {
  const storeRe = kqlString(kqlRegex(storeKeyRegex(p)));
  const w = p.weights;
  return [
    `// ${ID} Digital Certificates: certificate written to a Windows trust store by a process outside the approved list`,
    `let ActionTypes = ${kqlStringList(p.actionTypes)};`,
    `let ApprovedProcesses = ${kqlStringList(p.approvedProcesses)};`,
    `let ScriptHosts = ${kqlStringList(p.scriptHosts)};`,
    `let AllowedThumbprints = ${kqlStringList(p.allowedThumbprints.map((t) => t.toLowerCase()))};`,
    'DeviceRegistryEvents',
    timeFilter(p.lookback, window),
    '| where ActionType in~ (ActionTypes)',
    `| where RegistryKey matches regex ${storeRe}`,
    '| where InitiatingProcessFileName !in~ (ApprovedProcesses)',
    `| extend CertStoreHive = tolower(extract(${storeRe}, 1, RegistryKey))`,
    `| extend CertStorePath = tolower(extract(${storeRe}, 2, RegistryKey))`,
    `| extend CertStoreName = tolower(extract(${storeRe}, 3, RegistryKey))`,
    `| extend CertThumbprint = tolower(extract(${kqlString(kqlRegex(THUMBPRINT))}, 1, RegistryKey))`,
    `| extend CertStoreType = case(${Object.entries(STORE_TYPE)
      .map(([k, v]) => `CertStoreName == ${kqlString(k)}, ${kqlString(v)}`)
      .join(', ')}, CertStoreName)`,
    `| extend IsUserStore = CertStoreHive matches regex ${kqlString(kqlRegex(USER_HIVE))}`,
    '| extend IsPolicyStore = CertStorePath startswith "policies"',
    '| extend IsEnterpriseStore = CertStorePath endswith "enterprisecertificates"',
    '| extend IsScriptHost = InitiatingProcessFileName in~ (ScriptHosts)',
    `| extend CertRiskScore = iff(CertStoreName in ("root", "authroot"), ${kqlReal(w.root_store_write)}, real(0))` +
      ` + iff(CertStoreName == "ca", ${kqlReal(w.intermediate_store_write)}, real(0))` +
      ` + iff(IsScriptHost, ${kqlReal(w.script_host_writer)}, real(0))` +
      ` + iff(IsUserStore or IsPolicyStore or IsEnterpriseStore, ${kqlReal(w.user_or_policy_store)}, real(0))`,
    `| where CertRiskScore > ${kqlReal(p.minScore)}`,
    '| where CertThumbprint !in (AllowedThumbprints)',
    `| project ${RAW_COLUMNS.join(', ')},`,
    '    CertStoreType, CertStoreName, CertThumbprint, IsUserStore, IsPolicyStore, IsEnterpriseStore, IsScriptHost, CertRiskScore',
    '| sort by CertRiskScore desc, TimeGenerated desc',
  ].join('\n');
}

function evaluate(row: Row, p: T1588004Params): Evaluation | null {
  const c = compiled(p);
  const actionType = text(row, 'ActionType') ?? '';
  if (!c.actionTypes.has(actionType.toLowerCase())) return null;
  const registryKey = text(row, 'RegistryKey') ?? '';
  const store = c.store.exec(registryKey);
  if (!store) return null;
  const processName = text(row, 'InitiatingProcessFileName');
  const processLower = (processName ?? '').toLowerCase();
  if (c.approvedProcesses.has(processLower)) return null;

  const hive = (store[1] ?? '').toLowerCase();
  const path = (store[2] ?? '').toLowerCase();
  const storeName = (store[3] ?? '').toLowerCase();
  const thumbprint = (THUMBPRINT_RE.exec(registryKey)?.[1] ?? '').toLowerCase();
  const storeType = STORE_TYPE[storeName] ?? storeName;
  const isUser = USER_HIVE_RE.test(hive);
  const isPolicy = path.startsWith('policies');
  const isEnterprise = path.endsWith('enterprisecertificates');
  const isScriptHost = c.scriptHosts.has(processLower);
  const scope = isUser ? 'user' : 'machine';
  const subject = thumbprint ? `certificate ${thumbprint}` : 'a certificate';

  const signals: Signal[] = [];
  if (ROOT_STORES.has(storeName)) {
    signals.push({ id: 'root_store_write', points: p.weights.root_store_write, reason: `${subject} written to the ${scope} ${storeType} store` });
  }
  if (storeName === 'ca') {
    signals.push({ id: 'intermediate_store_write', points: p.weights.intermediate_store_write, reason: `${subject} written to the ${scope} ${storeType} store` });
  }
  if (isScriptHost) {
    signals.push({ id: 'script_host_writer', points: p.weights.script_host_writer, reason: `the store was written by ${processName}, a script host or LOLBin` });
  }
  if (isUser || isPolicy || isEnterprise) {
    const where = [isUser ? "the user's own hive" : '', isPolicy ? 'the group-policy path' : '', isEnterprise ? 'the enterprise store path' : ''].filter(Boolean).join(' and ');
    signals.push({ id: 'user_or_policy_store', points: p.weights.user_or_policy_store, reason: `the write went to ${where}` });
  }
  const score = signals.reduce((s, x) => s + x.points, 0);
  if (!(score > p.minScore)) return null;
  if (thumbprint && c.allowedThumbprints.has(thumbprint)) return null;

  const time = eventTime(row, TIME_COLUMNS);
  const host = text(row, 'DeviceName');
  const domain = text(row, 'InitiatingProcessAccountDomain');
  const user = text(row, 'InitiatingProcessAccountName');
  const account = user ? (domain ? `${domain}\\${user}` : user) : undefined;
  const commandLine = text(row, 'InitiatingProcessCommandLine');
  const parent = text(row, 'InitiatingProcessParentFileName');
  // Optional fields are assigned one by one, in the order they always had: a conditional
  // spread per field costs more than the rest of the row's work.
  const entities = {} as Entities;
  if (host) entities.host = host;
  if (account) entities.account = account;
  if (processName) entities.processName = processName;
  if (commandLine) entities.commandLine = commandLine;
  if (parent) entities.parentProcessName = parent;
  entities.registryKey = registryKey;
  entities.domains = [];
  const certificate: CertificateObservation = {};
  if (thumbprint) certificate.sha1 = thumbprint;
  certificate.store = storeType;
  return {
    key: stableKey(ID, [time, text(row, 'DeviceId') ?? host, actionType, registryKey, text(row, 'RegistryValueName'), processName, text(row, 'ReportId')]),
    time,
    signals,
    indicators: {
      CertStoreType: storeType,
      CertStoreName: storeName,
      CertThumbprint: thumbprint || null,
      IsUserStore: isUser,
      IsPolicyStore: isPolicy,
      IsEnterpriseStore: isEnterprise,
      IsScriptHost: isScriptHost,
      CertRiskScore: score,
    },
    entities,
    certificate,
  };
}

export const t1588004: Detection<T1588004Params> = {
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
  paramsSchema: t1588004ParamsSchema,
  buildQuery,
  evaluate,
  projectedColumns: RAW_COLUMNS,
  scheduleSetting: 'HUNT_SCHEDULE_T1588_004',
};
