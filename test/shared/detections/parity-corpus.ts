/**
 * A seeded generator of table rows that vary what breaks parsers: hive spellings, case, whitespace,
 * blank versus absent, every vendor key, wildcard names, SAN lists. Rows are generated per TABLE
 * (not per detection), so any detection over these tables can be checked with them.
 */

export type Row = Record<string, unknown>;

/** mulberry32: small, fast and deterministic for a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number) => r() < p;
const ABSENT = Symbol('absent');

/** Case and whitespace variants of a string. */
function mangle(r: Rand, s: string): string {
  let out = s;
  const c = r();
  if (c < 0.15) out = out.toUpperCase();
  else if (c < 0.3) out = out.toLowerCase();
  else if (c < 0.35) out = out.replace(/\b\w/g, (x) => x.toUpperCase());
  const w = r();
  if (w < 0.08) out = ` ${out}`;
  else if (w < 0.16) out = `${out} `;
  else if (w < 0.2) out = `\t${out}\t`;
  return out;
}

function setField(row: Row, name: string, value: unknown): void {
  if (value !== ABSENT) row[name] = value;
}

const HOSTS = ['update-cdn-service.net', 'login.contoso.com', 'WWW.Example.com', 'api.fabrikam.io.', 'a.b.c.d.example.org', 'intranet', '10.1.2.3', 'xn--bcher-kva.example', 'mail.contoso.com', 'cdn.test', 'host_with_underscore.corp.local', '*.contoso.com'];
const CN_NAMES = [...HOSTS, 'localhost', 'localhost.localdomain', 'example.com', 'shop.example.com', 'staging-api', 'Test Server', 'default', 'changeme', 'placeholder.invalid', 'Contoso Root CA', 'temp', 'attest.contoso.com', '*.Contoso.COM', 'latest.build.net', ''];
const SUBJECT_FORMS = [(cn: string) => cn, (cn: string) => `CN=${cn}`, (cn: string) => `CN=${cn}, O=Contoso, C=US`, (cn: string) => `/C=US/O=Contoso/CN=${cn}`, (cn: string) => `O=Contoso,CN=${cn}`, (cn: string) => ` cn = ${cn}`, () => `C=US, O=Contoso`];
const BLANKS = ['', ' ', '  \t', 'null', 'N/A', '-', 'none', 'NULL'];

const SUBJECT_KEYS = ['PanOSCommonName', 'FortinetFortiGatecn', 'ssl-subject', 'ssl_subject', 'tls_cert_subject', 'ssl_certificate_subject', 'ssl_cn'];
const ISSUER_KEYS = ['PanOSIssuerCommonName', 'FortinetFortiGateissuer', 'ssl-issuer', 'ssl_issuer', 'tls_cert_issuer', 'ssl_certificate_issuer', 'issuer-cn'];
const SAN_KEYS = ['FortinetFortiGatesan', 'ssl-san', 'ssl_san', 'tls_cert_san'];
const SNI_KEYS = ['PanOSServerNameIndication', 'FortinetFortiGatesni', 'ssl-sni', 'ssl_sni', 'sni'];
const OTHER_KEYS = ['ProfileToken=xxxxx', 'PanOSDeviceSN=0123456789', 'cat=SSL', 'PanOSFingerprint=AB:CD:EF', 'reason=ok'];

function subjectValue(r: Rand): string {
  if (chance(r, 0.1)) return pick(r, BLANKS);
  return pick(r, SUBJECT_FORMS)(pick(r, CN_NAMES));
}

function sanList(r: Rand, cn: string): string {
  if (chance(r, 0.1)) return pick(r, [...BLANKS, ',', ':', ' , ', 'DNS:']);
  const names = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(r, [...HOSTS, cn, `*.${pick(r, HOSTS)}`]));
  const prefix = () => pick(r, ['', 'DNS:', 'dns:', 'DNS: ']);
  return names.map((n) => `${prefix()}${n}`).join(pick(r, [',', ', ', ' ', ',']));
}

function additionalExtensions(r: Rand, host: string): string {
  const parts: string[] = [];
  const sep = pick(r, [';', '|', ';', '; ', ' |']);
  const cn = pick(r, CN_NAMES);
  const key = (keys: string[]) => mangle(r, pick(r, keys)).trim();
  if (chance(r, 0.4)) parts.push(pick(r, OTHER_KEYS));
  if (chance(r, 0.75)) parts.push(`${key(SUBJECT_KEYS)}=${chance(r, 0.5) ? cn : subjectValue(r)}`);
  if (chance(r, 0.7)) parts.push(`${key(ISSUER_KEYS)}=${chance(r, 0.45) ? cn : subjectValue(r)}`);
  if (chance(r, 0.4)) parts.push(`${key(SAN_KEYS)}=${sanList(r, cn)}`);
  if (chance(r, 0.5)) parts.push(`${key(SNI_KEYS)}=${chance(r, 0.6) ? host : pick(r, [...HOSTS, ...BLANKS])}`);
  if (chance(r, 0.3)) parts.push(pick(r, OTHER_KEYS));
  return parts.join(sep);
}

function commonSecurityLog(r: Rand): Row {
  const row: Row = { DeviceVendor: pick(r, ['Palo Alto Networks', 'Fortinet', 'Zscaler', 'Check Point']), DeviceProduct: pick(r, ['PAN-OS', 'FortiGate', 'NSSWeblog']) };
  const host = pick(r, HOSTS);
  setField(row, 'DeviceAction', pick<unknown>(r, ['allow', 'Allow', 'alert', 'deny', 'Blocked', ' drop ', 'reset-both', 'RESET-SERVER', '', ABSENT, 'accept', 'block-url']));
  setField(row, 'DestinationPort', pick<unknown>(r, [443, 443, 443, 8443, 4443, 10443, 80, 22, ABSENT, '443']));
  setField(row, 'DestinationHostName', pick<unknown>(r, [host, host, mangle(r, host), ...BLANKS, ABSENT, ABSENT, `${host}.`, `${host}..`]));
  setField(row, 'DestinationIP', pick<unknown>(r, ['203.0.113.7', '198.51.100.20', ABSENT]));
  setField(row, 'SourceIP', pick<unknown>(r, ['10.0.0.5', '10.20.30.40', ABSENT]));
  setField(row, 'SourcePort', pick<unknown>(r, [51515, 40000, ABSENT]));
  setField(row, 'SourceHostName', pick<unknown>(r, ['WS-FIN-017', '', ABSENT]));
  setField(row, 'SourceUserName', pick<unknown>(r, ['CONTOSO\\alice', ABSENT]));
  if (chance(r, 0.85)) row.AdditionalExtensions = additionalExtensions(r, host);
  if (chance(r, 0.25)) {
    row.DeviceCustomString3Label = pick(r, ['subject', 'TLS Subject', 'Certificate Subject', 'issuer', '', 'cs3']);
    row.DeviceCustomString3 = chance(r, 0.8) ? subjectValue(r) : pick(r, BLANKS);
  }
  if (chance(r, 0.25)) {
    row.DeviceCustomString4Label = pick(r, ['issuer', 'TLS Issuer', 'Certificate Issuer', 'subject', '']);
    row.DeviceCustomString4 = chance(r, 0.8) ? subjectValue(r) : pick(r, BLANKS);
  }
  return row;
}

const HIVES = ['HKEY_LOCAL_MACHINE', 'HKLM', 'hkey_local_machine', 'HKEY_CURRENT_USER', 'HKCU', 'HKEY_USERS\\S-1-5-21-1004336348-1177238915-682003330-1001', 'HKU\\S-1-5-18', '\\REGISTRY\\MACHINE', '\\REGISTRY\\USER\\S-1-5-21-1-1001', 'HKEY_CURRENT_USER\\S-1-5-21-1-1001', 'HKEY_USERS\\.DEFAULT'];
const STORE_PATHS = ['Microsoft\\SystemCertificates', 'Policies\\Microsoft\\SystemCertificates', 'Microsoft\\EnterpriseCertificates', 'Microsoft\\Cryptography'];
const STORES = ['ROOT', 'Root', 'AuthRoot', 'CA', 'My', 'TrustedPublisher', 'Disallowed', 'TrustedPeople', 'root '];
const THUMB = ['0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43', 'a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436', '0563B8630D62D75ABBC8AB1E4BDFB5A899B24D4', 'zz63B8630D62D75ABBC8AB1E4BDFB5A899B24D43'];

function registryKey(r: Rand): string {
  const wow = chance(r, 0.2) ? 'WOW6432Node\\' : '';
  const tail = pick(r, ['', '\\Certificates', `\\Certificates\\${pick(r, THUMB)}`, `\\Certificates\\${pick(r, THUMB)}\\`, `\\CRLs`, `\\Certificates\\${pick(r, THUMB)}\\Blob`]);
  const key = `${pick(r, HIVES)}\\${pick(r, ['SOFTWARE', 'Software', 'software'])}\\${wow}${pick(r, STORE_PATHS)}\\${pick(r, STORES)}${tail}`;
  return chance(r, 0.1) ? mangle(r, key) : key;
}

const PROCESSES = ['svchost.exe', 'SVCHOST.EXE', 'lsass.exe', 'powershell.exe', 'PowerShell.exe', 'pwsh.exe', 'certutil.exe', 'CertUtil.exe', 'reg.exe', 'mmc.exe', 'evil.exe', 'rundll32.exe', 'MsMpEng.exe', 'TrustedInstaller.exe', 'certmgr.exe', '', ' svchost.exe'];

function deviceRegistryEvents(r: Rand): Row {
  const row: Row = { DeviceId: 'dev-1', DeviceName: pick(r, ['ws-01.contoso.com', 'srv-02']) };
  setField(row, 'ActionType', pick<unknown>(r, ['RegistryValueSet', 'RegistryKeyCreated', 'registryvalueset', 'RegistryKeyDeleted', 'RegistryValueDeleted', ABSENT]));
  setField(row, 'RegistryKey', chance(r, 0.05) ? pick<unknown>(r, ['', ABSENT]) : registryKey(r));
  setField(row, 'RegistryValueName', pick<unknown>(r, ['Blob', '', ABSENT]));
  setField(row, 'InitiatingProcessFileName', pick<unknown>(r, [...PROCESSES, ABSENT]));
  setField(row, 'InitiatingProcessCommandLine', pick<unknown>(r, ['certutil -addstore root c.cer', 'powershell -enc AAAA', '', ABSENT]));
  setField(row, 'InitiatingProcessFolderPath', pick<unknown>(r, ['C:\\Windows\\System32\\svchost.exe', 'C:\\Users\\Public\\svchost.exe', ABSENT]));
  return row;
}

const COMMAND_PARTS = [
  'openssl req -new -x509 -nodes -subj "/CN=update-cdn-service.net" -keyout key.pem -out cert.pem',
  "openssl req -x509 -subj '/C=US/CN=localhost' -newkey rsa:2048",
  'openssl genrsa -out k.key 2048',
  'openssl x509 -req -in c.csr -signkey k.key',
  'openssl s_client -connect x:443',
  'openssl req -new -subj /CN=test -addext subjectAltName=DNS:a.contoso.com,DNS:*.b.net',
  'New-SelfSignedCertificate -DnsName "login.contoso.com","*.contoso.com" -CertStoreLocation Cert:\\LocalMachine\\My',
  "New-SelfSignedCertificate -DnsName @('a.test', 'b.test') -Subject 'CN=Test Cert' -CertStoreLocation cert:\\CurrentUser\\Root",
  'New-SelfSignedCertificate -DnsName a.test,b.test',
  '[System.Security.Cryptography.X509Certificates.X509Certificate2]::new("c.pfx")',
  'Import-Certificate -FilePath c.cer -CertStoreLocation Cert:\\LocalMachine\\Root',
  'Get-ChildItem Cert:\\LocalMachine\\My',
  'certutil -addstore -f Root evil.cer',
  'certutil.exe /addstore "AuthRoot" c.cer',
  'certutil -importpfx c.pfx',
  'certutil -urlcache -split -f http://x/y',
  'certutil -addstore -user -f "TrustedPublisher" c.cer',
  'certutil –addstore root c.cer',
  'makecert -r -pe -n "CN=Test" -ss my',
  'makecert -n "CN=My CA" -r -sv ca.pvk ca.cer',
  'cmd /c dir',
  '-DnsName ""',
  '',
];

const PROCESS_FILES = ['openssl.exe', 'OpenSSL.exe', 'openssl', 'makecert.exe', 'MAKECERT.EXE', 'pvk2pfx.exe', 'powershell.exe', 'pwsh.exe', 'pwsh', 'powershell_ise.exe', 'certutil.exe', 'CERTUTIL.EXE', 'cmd.exe', 'certmgr.exe', ''];

function commandLine(r: Rand): string {
  const c = pick(r, COMMAND_PARTS);
  const spaced = chance(r, 0.15) ? c.replace(/ /g, pick(r, ['  ', '\t', ' '])) : c;
  return chance(r, 0.15) ? mangle(r, spaced) : spaced;
}

function deviceProcessEvents(r: Rand): Row {
  const row: Row = { DeviceId: 'dev-2', DeviceName: 'ws-02', ActionType: 'ProcessCreated' };
  setField(row, 'FileName', pick<unknown>(r, [...PROCESS_FILES, ABSENT]));
  setField(row, 'ProcessCommandLine', chance(r, 0.05) ? pick<unknown>(r, ['', ABSENT]) : commandLine(r));
  setField(row, 'FolderPath', pick<unknown>(r, ['C:\\Windows\\System32\\certutil.exe', 'C:\\Temp\\openssl.exe', ABSENT]));
  setField(row, 'AccountName', pick<unknown>(r, ['alice', ABSENT]));
  setField(row, 'InitiatingProcessFileName', pick<unknown>(r, ['cmd.exe', 'explorer.exe', ABSENT]));
  setField(row, 'ReportId', pick<unknown>(r, [1, 2, 3, ABSENT]));
  return row;
}

const FILE_NAMES = ['cert.pfx', 'CERT.PFX', 'k.p12', 'server.pem', 'c.cer', 'c.crt', 'd.der', 'id.key', 'ca.pvk', 'notes.txt', 'cert.pfx.bak', 'key.KEY', ''];
const FOLDERS = ['C:\\Users\\alice\\AppData\\Local\\Temp\\', 'C:\\Windows\\Temp\\', 'C:\\Users\\Public\\', 'C:\\ProgramData\\x\\', 'C:\\Program Files\\App\\', '/tmp/', '/var/tmp/x/', '/dev/shm/', '/home/alice/', 'c:\\users\\alice\\appdata\\local\\temp\\', 'C:\\Temp\\', ''];

function deviceFileEvents(r: Rand): Row {
  const row: Row = { DeviceId: 'dev-3', DeviceName: 'ws-03' };
  setField(row, 'ActionType', pick<unknown>(r, ['FileCreated', 'FileRenamed', 'FileModified', 'filecreated', 'FileDeleted', ABSENT]));
  const name = pick(r, FILE_NAMES);
  setField(row, 'FileName', chance(r, 0.05) ? ABSENT : name);
  setField(row, 'FolderPath', chance(r, 0.05) ? ABSENT : `${pick(r, FOLDERS)}${name}`);
  setField(row, 'InitiatingProcessFileName', pick<unknown>(r, ['openssl.exe', 'powershell.exe', 'certutil.exe', 'explorer.exe', ABSENT]));
  setField(row, 'InitiatingProcessCommandLine', chance(r, 0.2) ? ABSENT : commandLine(r));
  return row;
}

export const TABLE_GENERATORS: Record<string, (r: Rand) => Row> = {
  CommonSecurityLog: commonSecurityLog,
  DeviceRegistryEvents: deviceRegistryEvents,
  DeviceProcessEvents: deviceProcessEvents,
  DeviceFileEvents: deviceFileEvents,
};

/** `count` rows spread over the tables, reproducible for the seed. */
export function generateRows(tables: readonly string[], count: number, seed: number): Array<{ table: string; row: Row }> {
  const r = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const table = tables[i % tables.length] as string;
    const generate = TABLE_GENERATORS[table];
    if (!generate) throw new Error(`parity corpus: no generator for table ${table}`);
    return { table, row: generate(r) };
  });
}
