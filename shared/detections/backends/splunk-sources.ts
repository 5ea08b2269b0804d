/**
 * Where each definition table comes from in Splunk: the base search and, for every column the
 * definition reads, the SPL that gives it from the Splunk fields (a column Splunk does not have
 * is mapped to "" on purpose). A column a definition starts reading and this file does not map
 * is read as "" and named in the search's limitations until its Splunk source is stated here.
 *
 * Field names and their sources:
 * - Splunk Stream `stream:ssl` (Splunk Stream, SSL/TLS protocol fields): ssl_subject, ssl_issuer,
 *   ssl_serial, ssl_subject_alt_name, ssl_server_name (SNI); CIM src_ip/dest_ip/dest_port.
 * - Palo Alto `pan:traffic` / `pan:decryption` (Splunk Add-on for Palo Alto Networks): CIM
 *   src_ip, dest_ip, dest_port, action, dest_host; certificate fields where the add-on extracts
 *   them under the names of the tuning's vendor keys.
 * - Cisco ASA `cisco:asa` (Splunk Add-on for Cisco ASA): CIM fields; ASA syslog carries no server
 *   certificate for transit traffic, so these events score only where the deployment extracts
 *   ssl_subject/ssl_issuer (the reference page's coalesce chain).
 * - Fortinet `fortigate_traffic` (Fortinet FortiGate Add-on for Splunk; FortiOS Log Message
 *   Reference, SSL fields): scertcname, scertissuer, sni, hostname.
 * - CIM Certificates data model (All_Certificates.SSL): ssl_subject, ssl_issuer, dest, dest_port, src.
 * - Sysmon (Splunk Add-on for Microsoft Sysmon; Sysmon event schema): EventCode 1 Image,
 *   CommandLine, User, Hashes, ParentImage, ParentCommandLine; 11 TargetFilename, Image, User;
 *   12/13 EventType, TargetObject, Image, User; Computer; RecordID.
 * - CIM Endpoint data model: Processes (process_name, original_file_name, process_path, process,
 *   parent_process_name, parent_process, user, dest), Filesystem (file_name, file_path, action, user, dest), Registry
 *   (registry_path, registry_value_name, action, process_name, process_path, user, dest).
 */

/** The event time as ISO-8601 with its UTC offset (strftime formats in the search head's zone, %z says which). */
const EVENT_TIME = 'strftime(_time, "%Y-%m-%dT%H:%M:%S.%3Q%z")';

export interface SplunkSource {
  /** Short name, part of the saved-search name. */
  name: string;
  /** The definition table this source stands for. */
  table: string;
  /** The search up to the column mapping (base search, tstats and rename). */
  base: string[];
  /** Definition column → SPL value. */
  columns: Record<string, string>;
}

/** Built-in Splunk field → key=value pair emitted into AdditionalExtensions for T1608.003 (key as the definition's key lists name it). */
export const TLS_FIELD_KEYS: Array<{ field: string; key: string }> = [
  { field: 'ssl_subject', key: 'ssl_subject' },
  { field: 'tls_cert_subject', key: 'tls_cert_subject' },
  { field: 'ssl_certificate_subject', key: 'ssl_certificate_subject' },
  { field: 'ssl_cn', key: 'ssl_cn' },
  { field: 'scertcname', key: 'FortinetFortiGatecn' },
  { field: 'ssl_issuer', key: 'ssl_issuer' },
  { field: 'tls_cert_issuer', key: 'tls_cert_issuer' },
  { field: 'ssl_cert_issuer', key: 'ssl_issuer' },
  { field: 'ssl_certificate_issuer', key: 'ssl_certificate_issuer' },
  { field: 'scertissuer', key: 'FortinetFortiGateissuer' },
  { field: 'ssl_subject_alt_name', key: 'ssl_san' },
  { field: 'ssl_san', key: 'ssl_san' },
  { field: 'tls_cert_san', key: 'tls_cert_san' },
  { field: 'ssl_server_name', key: 'ssl_sni' },
  { field: 'ssl_sni', key: 'ssl_sni' },
  { field: 'sni', key: 'FortinetFortiGatesni' },
  { field: 'ssl_serial', key: 'ssl_serial' },
];

/** The first of the fields with a non-blank value, else "": SPL's coalesce alone would stop at a blank one. */
const str = (...fields: string[]) =>
  fields.length === 1 ? `coalesce(${fields[0]}, "")` : `coalesce(${[...fields.map((f) => `if(len(trim(${f}))>0, ${f}, null())`), '""'].join(', ')})`;
const baseName = (field: string) => `mvindex(split(${str(field)}, "\\\\"), -1)`;
const userDomain = (field: string) => `if(match(${str(field)}, "\\\\\\\\"), mvindex(split(${field}, "\\\\"), 0), "")`;
const userName = (field: string) => `mvindex(split(${str(field)}, "\\\\"), -1)`;
/** Sysmon abbreviates HKEY_USERS as HKU; the definitions know HKEY_USERS. */
const registryPath = (field: string) => `replace(${str(field)}, "(?i)^HKU(\\\\\\\\)", "HKEY_USERS\\\\1")`;

/**
 * T1608.003's AdditionalExtensions, rebuilt from Splunk fields as `key=value;` pairs: the
 * built-in fields above and every tuning key that names a Splunk field. Values lose `;`, `|` and
 * line breaks (the pair separators); empty values are left out so a later key can supply one.
 */
export function tlsExtensions(extraKeys: readonly string[]): string {
  const pairs = [...TLS_FIELD_KEYS, ...extraKeys.filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)).map((k) => ({ field: k, key: k }))];
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const { field, key } of pairs) {
    if (seen.has(field)) continue;
    seen.add(field);
    const value = `replace(${str(field)}, "[;|\\\\r\\\\n]", " ")`;
    parts.push(`if(len(${value})>0, "${key}=" . ${value} . ";", "")`);
  }
  return parts.join(' . ');
}

const NETWORK_COMMON = {
  TimeGenerated: EVENT_TIME,
  DeviceCustomString3: '""',
  DeviceCustomString3Label: '""',
  DeviceCustomString4: '""',
  DeviceCustomString4Label: '""',
};

export function t1608003Sources(extraKeys: readonly string[]): SplunkSource[] {
  return [
    {
      name: 'sourcetypes',
      table: 'CommonSecurityLog',
      base: ['`certsoar_index` `certsoar_tls_sourcetypes`'],
      columns: {
        ...NETWORK_COMMON,
        DeviceVendor: str('vendor', 'vendor_product', 'sourcetype'),
        DeviceProduct: str('product', 'sourcetype'),
        DeviceAction: str('action'),
        SourceIP: str('src_ip', 'src'),
        SourcePort: 'tonumber(coalesce(src_port, sport))',
        SourceHostName: str('src_host', 'src_nt_host'),
        SourceUserName: str('user', 'src_user'),
        DestinationIP: str('dest_ip'),
        DestinationPort: 'tonumber(coalesce(dest_port, dport, dstport))',
        DestinationHostName: str('dest_host', 'dest_name', 'hostname'),
        AdditionalExtensions: tlsExtensions(extraKeys),
        Activity: str('signature', 'subtype'),
        Message: str('msg', 'message'),
        Protocol: str('transport', 'protocol'),
        ApplicationProtocol: str('app'),
        RequestURL: str('url'),
      },
    },
    {
      name: 'cim-certificates',
      table: 'CommonSecurityLog',
      base: [
        '| tstats summariesonly=false count from datamodel=Certificates.All_Certificates',
        '    where nodename=All_Certificates.SSL',
        '    by _time, All_Certificates.src, All_Certificates.dest, All_Certificates.dest_port, All_Certificates.SSL.ssl_subject, All_Certificates.SSL.ssl_issuer span=1s',
        '| rename All_Certificates.SSL.* AS *, All_Certificates.* AS *',
      ],
      columns: {
        ...NETWORK_COMMON,
        DeviceVendor: '"Splunk CIM"',
        DeviceProduct: '"Certificates"',
        Message: '""',
        DeviceAction: '""',
        SourceIP: str('src'),
        SourcePort: 'null()',
        SourceHostName: '""',
        SourceUserName: '""',
        DestinationIP: `if(match(${str('dest')}, "^[0-9.:a-fA-F]+$"), dest, "")`,
        DestinationPort: 'tonumber(dest_port)',
        DestinationHostName: `if(match(${str('dest')}, "^[0-9.:a-fA-F]+$"), "", dest)`,
        AdditionalExtensions: tlsExtensions([]),
      },
    },
  ];
}

const SYSMON_COMMON = {
  TimeGenerated: EVENT_TIME,
  DeviceId: '""',
  DeviceName: str('Computer', 'host'),
  ReportId: 'tonumber(coalesce(RecordID, EventRecordID))',
};

export const T1588004_SOURCES: SplunkSource[] = [
  {
    name: 'sysmon',
    table: 'DeviceRegistryEvents',
    base: ['`certsoar_index` `certsoar_sysmon` EventCode IN (12, 13)'],
    columns: {
      ...SYSMON_COMMON,
      ActionType: `case(EventType=="SetValue", "RegistryValueSet", EventType=="CreateKey", "RegistryKeyCreated", EventType=="DeleteKey", "RegistryKeyDeleted", EventType=="DeleteValue", "RegistryValueDeleted", 1==1, ${str('EventType')})`,
      // Sysmon's TargetObject for a value names the value last; the definitions read the key and the value apart.
      RegistryKey: `if(EventType=="SetValue", replace(${registryPath('TargetObject')}, "\\\\\\\\[^\\\\\\\\]*$", ""), ${registryPath('TargetObject')})`,
      RegistryValueName: `if(EventType=="SetValue", mvindex(split(${str('TargetObject')}, "\\\\"), -1), "")`,
      RegistryValueData: str('Details'),
      RegistryValueType: '""',
      InitiatingProcessVersionInfoOriginalFileName: '""',
      InitiatingProcessId: 'tonumber(ProcessId)',
      InitiatingProcessFileName: baseName('Image'),
      InitiatingProcessFolderPath: str('Image'),
      InitiatingProcessCommandLine: '""',
      InitiatingProcessSHA1: '""',
      InitiatingProcessAccountDomain: userDomain('User'),
      InitiatingProcessAccountName: userName('User'),
      InitiatingProcessParentFileName: '""',
    },
  },
  {
    name: 'cim-endpoint',
    table: 'DeviceRegistryEvents',
    base: [
      '| tstats summariesonly=false count from datamodel=Endpoint.Registry',
      '    by _time, Registry.dest, Registry.user, Registry.action, Registry.process_path, Registry.process_name, Registry.registry_path, Registry.registry_value_name span=1s',
      '| rename Registry.* AS *',
    ],
    columns: {
      TimeGenerated: EVENT_TIME,
      DeviceId: '""',
      DeviceName: str('dest'),
      ReportId: 'null()',
      ActionType: `case(action=="modified", "RegistryValueSet", action=="created", "RegistryKeyCreated", action=="deleted", "RegistryKeyDeleted", 1==1, ${str('action')})`,
      RegistryKey: registryPath('registry_path'),
      RegistryValueName: str('registry_value_name'),
      RegistryValueData: '""',
      InitiatingProcessVersionInfoOriginalFileName: '""',
      InitiatingProcessFileName: str('process_name'),
      InitiatingProcessFolderPath: str('process_path'),
      InitiatingProcessCommandLine: '""',
      InitiatingProcessSHA1: '""',
      InitiatingProcessAccountDomain: userDomain('user'),
      InitiatingProcessAccountName: userName('user'),
      InitiatingProcessParentFileName: '""',
    },
  },
];

export const T1587003_SOURCES: SplunkSource[] = [
  {
    name: 'sysmon',
    table: 'DeviceProcessEvents',
    base: ['`certsoar_index` `certsoar_sysmon` EventCode=1'],
    columns: {
      ...SYSMON_COMMON,
      ActionType: '"ProcessCreated"',
      AccountDomain: userDomain('User'),
      AccountName: userName('User'),
      FileName: baseName('Image'),
      FolderPath: str('Image'),
      SHA1: `lower(replace(${str('Hashes')}, "^(?:.*SHA1=([0-9A-Fa-f]{40}).*|.*)$", "\\\\1"))`,
      ProcessCommandLine: str('CommandLine'),
      ProcessVersionInfoOriginalFileName: str('OriginalFileName'),
      ProcessVersionInfoCompanyName: str('Company'),
      ProcessVersionInfoProductName: str('Product'),
      SHA256: `lower(replace(${str('Hashes')}, "^(?:.*SHA256=([0-9A-Fa-f]{64}).*|.*)$", "\\\\1"))`,
      ProcessId: 'tonumber(ProcessId)',
      InitiatingProcessFileName: baseName('ParentImage'),
      InitiatingProcessFolderPath: str('ParentImage'),
      InitiatingProcessVersionInfoOriginalFileName: '""',
      InitiatingProcessCommandLine: str('ParentCommandLine'),
      InitiatingProcessParentFileName: '""',
    },
  },
  {
    name: 'sysmon',
    table: 'DeviceFileEvents',
    base: ['`certsoar_index` `certsoar_sysmon` EventCode=11'],
    columns: {
      ...SYSMON_COMMON,
      ActionType: '"FileCreated"',
      FileName: baseName('TargetFilename'),
      FolderPath: str('TargetFilename'),
      SHA1: '""',
      InitiatingProcessAccountDomain: userDomain('User'),
      InitiatingProcessAccountName: userName('User'),
      InitiatingProcessFileName: baseName('Image'),
      InitiatingProcessFolderPath: str('Image'),
      InitiatingProcessVersionInfoOriginalFileName: '""',
      InitiatingProcessCommandLine: '""',
      InitiatingProcessParentFileName: '""',
    },
  },
  {
    name: 'cim-endpoint',
    table: 'DeviceProcessEvents',
    base: [
      '| tstats summariesonly=false count from datamodel=Endpoint.Processes',
      '    by _time, Processes.dest, Processes.user, Processes.process_name, Processes.original_file_name, Processes.process_path, Processes.process, Processes.parent_process_name, Processes.parent_process span=1s',
      '| rename Processes.* AS *',
    ],
    columns: {
      TimeGenerated: EVENT_TIME,
      DeviceId: '""',
      DeviceName: str('dest'),
      ReportId: 'null()',
      ActionType: '"ProcessCreated"',
      AccountDomain: userDomain('user'),
      AccountName: userName('user'),
      FileName: str('process_name'),
      FolderPath: str('process_path'),
      SHA1: '""',
      ProcessCommandLine: str('process'),
      ProcessVersionInfoOriginalFileName: str('original_file_name'),
      InitiatingProcessFolderPath: '""',
      InitiatingProcessVersionInfoOriginalFileName: '""',
      InitiatingProcessFileName: str('parent_process_name'),
      InitiatingProcessCommandLine: str('parent_process'),
      InitiatingProcessParentFileName: '""',
    },
  },
  {
    name: 'cim-endpoint',
    table: 'DeviceFileEvents',
    base: [
      '| tstats summariesonly=false count from datamodel=Endpoint.Filesystem',
      '    where Filesystem.action IN ("created", "modified")',
      '    by _time, Filesystem.dest, Filesystem.user, Filesystem.action, Filesystem.file_name, Filesystem.file_path span=1s',
      '| rename Filesystem.* AS *',
    ],
    columns: {
      TimeGenerated: EVENT_TIME,
      DeviceId: '""',
      DeviceName: str('dest'),
      ReportId: 'null()',
      ActionType: `if(action=="created", "FileCreated", "FileModified")`,
      FileName: str('file_name'),
      FolderPath: str('file_path'),
      SHA1: '""',
      InitiatingProcessAccountDomain: userDomain('user'),
      InitiatingProcessAccountName: userName('user'),
      InitiatingProcessFileName: '""',
      InitiatingProcessCommandLine: '""',
      InitiatingProcessParentFileName: '""',
    },
  },
];
