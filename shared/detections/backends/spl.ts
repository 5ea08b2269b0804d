import type { Tuning } from '../../scoring/tuning.js';
import { escapeRegex } from '../../kql/regex.js';
import { DNS_NAME_SOURCE } from '../common.js';
import { DETECTIONS } from '../index.js';
import type { T1587003Params } from '../definitions/t1587-003.js';
import type { T1588004Params } from '../definitions/t1588-004.js';
import type { T1608003Params } from '../definitions/t1608-003.js';
import type { Detection } from '../types.js';
import { type DetectionPlan, detectionPlan, levelCases, placeholderCnRegex, translatedSignals } from './plan.js';
import { splClean, splExtract, splField, splFirstNonEmpty, splRegexI, splString, splStringList } from './spl-text.js';

/**
 * SPL for Splunk, from each detection's parameters and signals: the same filters, signal
 * weights, threshold (score > minScore) and levels (tuning.levels) as the KQL.
 *
 * Splunk-side field names (documented per source):
 * - Splunk Stream `stream:ssl` (Splunk Stream "SSL protocol fields"): ssl_subject, ssl_issuer,
 *   ssl_subject_alt_name, ssl_server_name (SNI), dest_port, dest_ip, src_ip, action.
 * - Splunk Add-on for Palo Alto Networks `pan:traffic` / `pan:decryption`: the PAN-OS
 *   decryption log fields (PAN-OS Syslog Field Descriptions, Decryption log) as the add-on
 *   extracts them, dest_host/sni, plus CIM dest_port/action.
 * - Cisco ASA `cisco:asa` (Splunk Add-on for Cisco ASA): ASA syslog carries no server
 *   certificate for transit connections; those events only score when an extraction in the
 *   deployment supplies ssl_subject/ssl_issuer (the reference page's coalesce chain).
 * - Fortinet FortiGate `fortigate_traffic` (Fortinet FortiGate Add-on for Splunk): FortiOS log
 *   fields scertcname (server certificate CN), scertissuer, sni, hostname (FortiOS Log
 *   Message Reference, traffic/SSL fields).
 * - CIM Certificates data model (All_Certificates.SSL): ssl_subject, ssl_issuer,
 *   ssl_subject_common_name, dest, dest_port, src.
 * - Sysmon (Splunk Add-on for Sysmon, XmlWinEventLog:Microsoft-Windows-Sysmon/Operational):
 *   EventCode 1 Image/CommandLine/ParentImage, 11 TargetFilename/Image, 12/13 TargetObject/Image/Details.
 * - CIM Endpoint data model: Registry (registry_path, process_name), Processes (process_name,
 *   process), Filesystem (file_path, file_name, action).
 * The vendor keys in the tuning document (subjectKeys, issuerKeys, sanKeys, sniKeys) are added
 * to these lists as field names, so a new vendor key changes the SPL too.
 */

export interface SplSearch {
  /** Saved-search name, unique in the app. */
  name: string;
  detectionId: string;
  /** Which source the search reads (raw sourcetypes, a CIM data model). */
  source: string;
  search: string;
}

/** Macros the searches use; the Splunk app defines them in macros.conf. */
export const SPL_MACROS = {
  certsoar_index: { definition: 'index=*', description: 'Indexes to search; narrow to the ones holding firewall/proxy and Sysmon data.' },
  certsoar_tls_sourcetypes: {
    definition: '(sourcetype="stream:ssl" OR sourcetype="pan:traffic" OR sourcetype="pan:decryption" OR sourcetype="cisco:asa" OR sourcetype="fortigate_traffic")',
    description: 'Sourcetypes that carry the certificate of inspected TLS sessions.',
  },
  certsoar_sysmon: {
    definition: '(sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" OR source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational")',
    description: 'Sysmon operational log as the Splunk Add-on for Sysmon indexes it.',
  },
} as const;

const SUBJECT_FIELDS = ['ssl_subject', 'tls_cert_subject', 'ssl_certificate_subject', 'ssl_cn', 'scertcname', 'cn'];
const ISSUER_FIELDS = ['ssl_issuer', 'tls_cert_issuer', 'ssl_cert_issuer', 'ssl_certificate_issuer', 'scertissuer', 'issuer_cn'];
const SAN_FIELDS = ['ssl_subject_alt_name', 'ssl_san', 'tls_cert_san', 'san'];
const SNI_FIELDS = ['ssl_server_name', 'sni', 'server_name'];
const DEST_HOST_FIELDS = ['dest_host', 'hostname', 'dest_name'];
const DEST_PORT_FIELDS = ['dest_port', 'dport', 'dstport'];

/** Tuning keys that are usable Splunk field names, after the built-in ones, without repeats. */
function fieldsWithKeys(builtIn: readonly string[], keys: readonly string[]): string[] {
  return [...new Set([...builtIn, ...keys.filter((k) => /^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(k))])];
}

function scoreAndLevel(plan: DetectionPlan<unknown>, scoreColumn: string, conditions: Record<string, string>): string[] {
  const signals = translatedSignals(plan, 'SPL', conditions);
  const flags = signals.map((s) => `| eval signal_${s.id}=if(${s.condition}, 1, 0)`);
  const sum = signals.map((s) => `signal_${s.id}*${s.weight}`).join(' + ');
  const levels = levelCases(plan.levels)
    .map((l) => `${scoreColumn}>=${l.min}, "${l.level}"`)
    .join(', ');
  return [
    ...flags,
    `| eval ${scoreColumn}=${sum}`,
    `| where ${scoreColumn} > ${plan.minScore}`,
    `| eval CertRiskLevel=case(${levels}, 1==1, "Informational")`,
  ];
}

const notIn = (expr: string, values: readonly string[]) => (values.length ? [`| where NOT in(${expr}, ${splStringList(values)})`] : []);

// ---- T1608.003 -------------------------------------------------------------------------------

const CN_PRESENT = '(^|[,/])[ \\t]*CN=';
const CN_VALUE = '(?:^|[,/])[ \\t]*CN=([^,/]*)';

/** The certificate-name logic shared by the sourcetype and the CIM search, over TLSSubject, TLSIssuer, TLSSubjectAltNames, DestinationHost. */
function t1608003Signals(plan: DetectionPlan<T1608003Params>): string[] {
  const p = plan.params;
  const placeholder = placeholderCnRegex(p.placeholderCnNames, p.placeholderCnWords);
  return [
    `| eval SubjectCN=${splClean(`if(match(TLSSubject, ${splString(splRegexI(CN_PRESENT))}), ${splExtract(splRegexI(CN_VALUE), 1, 'TLSSubject')}, TLSSubject)`)}`,
    `| eval CertSanNames=split(replace(replace(lower(TLSSubjectAltNames), "dns:", ""), ${splString('[\\s,:]+')}, ","), ",")`,
    '| eval CertSanNames=mvfilter(CertSanNames!="")',
    '| eval CertNames=mvappend(lower(SubjectCN), CertSanNames)',
    `| eval HostIsDnsName=if(match(DestinationHost, ${splString(splRegexI(DNS_NAME_SOURCE))}), 1, 0)`,
    '| eval HostWildcard=if(like(DestinationHost, "%.%"), "*" . substr(DestinationHost, len(mvindex(split(DestinationHost, "."), 0)) + 1), "")',
    `| eval CertCoversHost=if(isnotnull(mvfind(CertNames, "^\\\\Q" . DestinationHost . "\\\\E$")) OR (len(HostWildcard)>0 AND isnotnull(mvfind(CertNames, "^\\\\Q" . HostWildcard . "\\\\E$"))), 1, 0)`,
    ...scoreAndLevel(plan, 'CertRiskScore', {
      self_signed: 'len(TLSSubject)>0 AND len(TLSIssuer)>0 AND lower(TLSSubject)==lower(TLSIssuer)',
      hostname_mismatch: 'HostIsDnsName==1 AND (len(SubjectCN)>0 OR len(TLSSubjectAltNames)>0) AND CertCoversHost==0',
      placeholder_cn: placeholder ? `len(SubjectCN)>0 AND match(SubjectCN, ${splString(splRegexI(placeholder))})` : '1==0',
    }),
    ...notIn('lower(TLSIssuer)', p.allowedIssuers.map((i) => i.toLowerCase())),
    ...notIn('DestinationHost', p.allowedDestinationHosts.map((h) => h.toLowerCase())),
  ];
}

const T1608003_OUTPUT = 'TLSSubject, TLSIssuer, SubjectCN, TLSSubjectAltNames, signal_self_signed, signal_hostname_mismatch, signal_placeholder_cn, CertRiskScore, CertRiskLevel';

function t1608003Sourcetypes(plan: DetectionPlan<T1608003Params>): string {
  const p = plan.params;
  const field = (names: string[]) => names.map(splField);
  return [
    `\`certsoar_index\` \`certsoar_tls_sourcetypes\` NOT action IN (${p.excludedActions.map((a) => splString(a)).join(', ')})`,
    `| eval DestinationPort=tonumber(coalesce(${DEST_PORT_FIELDS.join(', ')}))`,
    `| where DestinationPort IN (${p.tlsPorts.join(', ')})`,
    `| eval TLSSubject=${splFirstNonEmpty(field(fieldsWithKeys(SUBJECT_FIELDS, p.subjectKeys)))}`,
    `| eval TLSIssuer=${splFirstNonEmpty(field(fieldsWithKeys(ISSUER_FIELDS, p.issuerKeys)))}`,
    '| where len(TLSSubject)>0 OR len(TLSIssuer)>0',
    `| eval TLSSubjectAltNames=${splFirstNonEmpty(field(fieldsWithKeys(SAN_FIELDS, p.sanKeys)))}`,
    `| eval DestinationHost=lower(replace(${splFirstNonEmpty(field(fieldsWithKeys([...DEST_HOST_FIELDS, ...SNI_FIELDS], p.sniKeys)))}, ${splString('\\.+$')}, ""))`,
    ...t1608003Signals(plan),
    `| table _time, sourcetype, src_ip, dest_ip, DestinationHost, DestinationPort, ${T1608003_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

function t1608003Cim(plan: DetectionPlan<T1608003Params>): string {
  const p = plan.params;
  return [
    '| tstats summariesonly=false count from datamodel=Certificates.All_Certificates',
    `    where nodename=All_Certificates.SSL All_Certificates.dest_port IN (${p.tlsPorts.join(', ')})`,
    '    by _time, All_Certificates.src, All_Certificates.dest, All_Certificates.dest_port, All_Certificates.SSL.ssl_subject, All_Certificates.SSL.ssl_issuer span=1s',
    '| rename All_Certificates.SSL.* AS *, All_Certificates.* AS *',
    `| eval TLSSubject=${splFirstNonEmpty(['ssl_subject'])}`,
    `| eval TLSIssuer=${splFirstNonEmpty(['ssl_issuer'])}`,
    '| where len(TLSSubject)>0 OR len(TLSIssuer)>0',
    '| eval TLSSubjectAltNames=""',
    `| eval DestinationHost=lower(replace(${splFirstNonEmpty(['dest'])}, ${splString('\\.+$')}, ""))`,
    '| eval DestinationPort=dest_port',
    ...t1608003Signals(plan),
    `| table _time, src, dest, DestinationHost, DestinationPort, ${T1608003_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

// ---- T1588.004 -------------------------------------------------------------------------------

/** Registry paths of the trust stores in every hive spelling Sysmon and CIM use (HKLM, HKU\<sid>, HKCU, full names). Groups: 1 hive, 2 path, 3 store. */
function storeRegex(p: T1588004Params): string {
  const hive = '(hklm|hkey_local_machine|hkcu|hkey_current_user|hku\\\\[^\\\\]+|hkey_users\\\\[^\\\\]+|\\\\registry\\\\machine|\\\\registry\\\\user\\\\[^\\\\]+)';
  const path = '(policies\\\\microsoft\\\\systemcertificates|microsoft\\\\systemcertificates|microsoft\\\\enterprisecertificates)';
  return `^${hive}\\\\software\\\\(?:wow6432node\\\\)?${path}\\\\(${p.stores.map((s) => escapeRegex(s.toLowerCase())).join('|')})(?:\\\\|$)`;
}
const THUMBPRINT = '\\\\certificates\\\\([0-9a-f]{40})(?:\\\\|$)';

function t1588004Signals(plan: DetectionPlan<T1588004Params>, keyField: string, processField: string): string[] {
  const p = plan.params;
  const re = splRegexI(storeRegex(p));
  return [
    `| where match(${keyField}, ${splString(re)})`,
    `| eval ProcessName=lower(mvindex(split(${processField}, "\\\\"), -1))`,
    ...notIn('ProcessName', p.approvedProcesses.map((x) => x.toLowerCase())),
    `| eval CertStoreHive=lower(${splExtract(re, 1, keyField)}), CertStorePath=lower(${splExtract(re, 2, keyField)}), CertStoreName=lower(${splExtract(re, 3, keyField)})`,
    `| eval CertThumbprint=lower(${splExtract(splRegexI(THUMBPRINT), 1, keyField)})`,
    ...scoreAndLevel(plan, 'CertRiskScore', {
      root_store_write: 'in(CertStoreName, "root", "authroot")',
      intermediate_store_write: 'CertStoreName=="ca"',
      script_host_writer: `in(ProcessName, ${splStringList(p.scriptHosts.map((x) => x.toLowerCase()))})`,
      user_or_policy_store: `match(CertStoreHive, ${splString('^(hkcu|hkey_current_user|hku|hkey_users|\\\\registry\\\\user)')}) OR like(CertStorePath, "policies%") OR like(CertStorePath, "%enterprisecertificates")`,
    }),
    ...notIn('CertThumbprint', p.allowedThumbprints.map((t) => t.toLowerCase())),
  ];
}

const T1588004_OUTPUT = 'CertStoreHive, CertStorePath, CertStoreName, CertThumbprint, signal_root_store_write, signal_intermediate_store_write, signal_script_host_writer, signal_user_or_policy_store, CertRiskScore, CertRiskLevel';

function t1588004Sysmon(plan: DetectionPlan<T1588004Params>): string {
  return [
    '`certsoar_index` `certsoar_sysmon` EventCode IN (12, 13)',
    ...t1588004Signals(plan, 'TargetObject', 'Image'),
    `| table _time, host, User, Image, ProcessName, TargetObject, Details, ${T1588004_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

function t1588004Cim(plan: DetectionPlan<T1588004Params>): string {
  return [
    '| tstats summariesonly=false count from datamodel=Endpoint.Registry',
    '    where Registry.action IN ("modified", "created")',
    '    by _time, Registry.dest, Registry.user, Registry.process_path, Registry.process_name, Registry.registry_path span=1s',
    '| rename Registry.* AS *',
    ...t1588004Signals(plan, 'registry_path', 'process_name'),
    `| table _time, dest, user, process_path, ProcessName, registry_path, ${T1588004_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

// ---- T1587.003 -------------------------------------------------------------------------------

const anyOf = (values: readonly string[]) => `(?:${values.map(escapeRegex).join('|')})`;
const lowerList = (values: readonly string[]) => splStringList(values.map((v) => v.toLowerCase()));

function t1587003Signals(plan: DetectionPlan<T1587003Params>, kind: string, commandLine: string, filePath: string): string[] {
  const p = plan.params;
  const trustStore = `(?:cert:\\\\(?:localmachine|currentuser)\\\\|[-/]addstore\\s+(?:[-/]\\S+\\s+)*["']?)${anyOf(p.trustStores)}(?:["'\\s\\\\]|$)`;
  const certutilVerb = `(?:^|\\s)[-/]${anyOf(p.certutilImportVerbs)}(?:\\s|$)`;
  const isProcess = `${kind}=="process"`;
  const isFile = `${kind}=="file"`;
  return [
    `| eval IsCertTool=if(${isProcess} AND (in(ProcessName, ${lowerList(p.certTools)}) OR (in(ProcessName, ${lowerList(p.opensslNames)}) AND match(${commandLine}, ${splString(splRegexI(anyOf(p.opensslPatterns)))}))), 1, 0)`,
    `| eval IsPowerShellCertificate=if(${isProcess} AND in(ProcessName, ${lowerList(p.powershellNames)}) AND match(${commandLine}, ${splString(splRegexI(anyOf(p.powershellPatterns)))}), 1, 0)`,
    `| eval IsCertutilImport=if(${isProcess} AND in(ProcessName, ${lowerList(p.certutilNames)}) AND match(${commandLine}, ${splString(splRegexI(certutilVerb))}), 1, 0)`,
    `| eval IsStagedCertFile=if(${isFile} AND match(${filePath}, ${splString(splRegexI(`${anyOf(p.certFileExtensions)}$`))}) AND match(${filePath}, ${splString(splRegexI(anyOf(p.suspiciousFolders)))}), 1, 0)`,
    '| where IsCertTool==1 OR IsPowerShellCertificate==1 OR IsCertutilImport==1 OR IsStagedCertFile==1',
    ...scoreAndLevel(plan, 'CertRiskScore', {
      cert_tool_execution: 'IsCertTool==1',
      powershell_certificate_creation: 'IsPowerShellCertificate==1',
      certutil_store_import: 'IsCertutilImport==1',
      trust_store_target: `(IsPowerShellCertificate==1 OR IsCertutilImport==1) AND match(${commandLine}, ${splString(splRegexI(trustStore))})`,
      cert_file_in_staging_folder: 'IsStagedCertFile==1',
      private_key_file: `IsStagedCertFile==1 AND match(${filePath}, ${splString(splRegexI(`${anyOf(p.privateKeyExtensions)}$`))})`,
    }),
  ];
}

const T1587003_OUTPUT = 'signal_cert_tool_execution, signal_powershell_certificate_creation, signal_certutil_store_import, signal_trust_store_target, signal_cert_file_in_staging_folder, signal_private_key_file, CertRiskScore, CertRiskLevel';

function t1587003Sysmon(plan: DetectionPlan<T1587003Params>): string {
  return [
    '`certsoar_index` `certsoar_sysmon` EventCode IN (1, 11)',
    '| eval EventKind=if(EventCode==1, "process", "file")',
    '| eval ProcessName=lower(mvindex(split(Image, "\\\\"), -1))',
    '| eval CommandLine=coalesce(CommandLine, ""), TargetFilename=coalesce(TargetFilename, "")',
    ...t1587003Signals(plan, 'EventKind', 'CommandLine', 'TargetFilename'),
    `| table _time, host, User, Image, CommandLine, ParentImage, TargetFilename, ${T1587003_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

function t1587003Cim(plan: DetectionPlan<T1587003Params>): string {
  return [
    '| tstats summariesonly=false count from datamodel=Endpoint.Processes',
    '    by _time, Processes.dest, Processes.user, Processes.process_name, Processes.process, Processes.parent_process_name span=1s',
    '| rename Processes.* AS *',
    '| eval EventKind="process", ProcessName=lower(process_name), process=coalesce(process, ""), file_path=""',
    ...t1587003Signals(plan, 'EventKind', 'process', 'file_path'),
    `| table _time, dest, user, process_name, process, parent_process_name, ${T1587003_OUTPUT}`,
    '| sort 0 - CertRiskScore, - _time',
  ].join('\n');
}

// ---- all -------------------------------------------------------------------------------------

type Builder = (plan: DetectionPlan<never>) => string;
const BUILDERS: Record<string, Array<{ source: string; build: Builder }>> = {
  'T1608.003': [
    { source: 'sourcetypes', build: t1608003Sourcetypes as Builder },
    { source: 'cim-certificates', build: t1608003Cim as Builder },
  ],
  'T1588.004': [
    { source: 'sysmon', build: t1588004Sysmon as Builder },
    { source: 'cim-endpoint', build: t1588004Cim as Builder },
  ],
  'T1587.003': [
    { source: 'sysmon', build: t1587003Sysmon as Builder },
    { source: 'cim-endpoint', build: t1587003Cim as Builder },
  ],
};

/** Every detection's SPL searches under the tuning document. */
export function splSearches(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): SplSearch[] {
  return detections.flatMap((d) => {
    const builders = BUILDERS[d.meta.id];
    if (!builders) throw new Error(`SPL: no searches for detection ${d.meta.id}`);
    const plan = detectionPlan<never>(d, tuning);
    return builders.map(({ source, build }) => ({ name: `certsoar ${d.meta.id} ${source}`, detectionId: d.meta.id, source, search: build(plan) }));
  });
}
