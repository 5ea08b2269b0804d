import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sysmonProcessCreateToDeviceProcessEvents } from '../../../shared/detections/adapters/sysmon.js';
import { hitFromRow } from '../../../shared/detections/index.js';
import { computeColumns } from '../../../shared/detections/backends/evaluator.js';
import { BRANCHES, t1587003, t1587003Definition } from '../../../shared/detections/definitions/t1587-003.js';
import { score } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { datasetUrl } from './fixtures/datasets.js';

const defaults = t1587003.paramsSchema.parse({});
/** Subject, CN and DNS names the query reads from an openssl/PowerShell command line (filters ignored). */
const certificateNamesFromCommandLine = (commandLine: string) => {
  const c = computeColumns(t1587003Definition, defaults, { ActionType: 'ProcessCreated', FileName: 'openssl.exe', ProcessCommandLine: commandLine });
  return { subject: c['CertSubject'], commonName: c['CertSubjectCN'], dnsNames: c['CertDnsNames'] };
};
const sysmon = (id: string) => sysmonProcessCreateToDeviceProcessEvents(JSON.parse(readFileSync(datasetUrl(`sysmon/${id}.json`), 'utf8')));

describe('command-line parsing', () => {
  it('reads -subj, -Subject and makecert -n in every quoting', () => {
    expect(certificateNamesFromCommandLine('openssl req -x509 -subj "/C=US/O=X/CN=a.evil.net" -out c.pem')).toMatchObject({ subject: '/C=US/O=X/CN=a.evil.net', commonName: 'a.evil.net' });
    expect(certificateNamesFromCommandLine("openssl req -x509 -subj '/CN=b.evil.net'")).toMatchObject({ commonName: 'b.evil.net' });
    expect(certificateNamesFromCommandLine('openssl req -x509 -subj /CN=c.evil.net -days 1')).toMatchObject({ subject: '/CN=c.evil.net', commonName: 'c.evil.net' });
    expect(certificateNamesFromCommandLine('New-SelfSignedCertificate -Subject "CN=d.evil.net, O=X"')).toMatchObject({ commonName: 'd.evil.net' });
    expect(certificateNamesFromCommandLine('makecert -r -pe -n "CN=Microsoft IT TLS CA 5" -ss Root')).toMatchObject({ commonName: 'Microsoft IT TLS CA 5' });
  });

  it('reads DNS names from -DnsName lists and subjectAltName extensions', () => {
    expect(certificateNamesFromCommandLine('New-SelfSignedCertificate -DnsName a.net,b.net -CertStoreLocation Cert:\\LocalMachine\\My').dnsNames).toEqual(['a.net', 'b.net']);
    expect(certificateNamesFromCommandLine(`New-SelfSignedCertificate -DnsName "a.net", 'b.net' -KeyLength 2048`).dnsNames).toEqual(['a.net', 'b.net']);
    expect(certificateNamesFromCommandLine('New-SelfSignedCertificate -DnsName @("a.net","*.b.net")').dnsNames).toEqual(['a.net', '*.b.net']);
    expect(certificateNamesFromCommandLine('openssl req -x509 -addext "subjectAltName=DNS:a.net,DNS:www.a.net,IP:10.0.0.1"').dnsNames).toEqual(['a.net', 'www.a.net']);
    expect(certificateNamesFromCommandLine('openssl genrsa -out k.pem 2048')).toEqual({ subject: '', commonName: '', dnsNames: [] });
  });
});

describe('branches', () => {
  it('names the branch of every hit and flags trust-store targets only where a store is named', () => {
    const ps = (cmd: string) => t1587003.evaluate({ ActionType: 'ProcessCreated', FileName: 'powershell.exe', ProcessCommandLine: cmd }, defaults)?.indicators;
    expect(ps('Import-Certificate -FilePath x.cer -CertStoreLocation Cert:\\LocalMachine\\Root')).toMatchObject({ DetectionBranch: BRANCHES.powershell, TargetsTrustStore: true });
    expect(ps('New-SelfSignedCertificate -Subject "CN=Atomic Root CA" -CertStoreLocation Cert:\\CurrentUser\\My')).toMatchObject({ TargetsTrustStore: false });
    expect(ps('Get-ChildItem Cert:\\LocalMachine\\Root')).toBeUndefined();
    const cu = (cmd: string) => t1587003.evaluate({ ActionType: 'ProcessCreated', FileName: 'CertUtil.exe', ProcessCommandLine: cmd }, defaults)?.indicators;
    expect(cu('certutil /addstore -f -user AuthRoot x.cer')).toMatchObject({ DetectionBranch: BRANCHES.certutil, TargetsTrustStore: true });
    expect(cu('certutil -addstore My x.cer')).toMatchObject({ DetectionBranch: BRANCHES.certutil, TargetsTrustStore: false });
    expect(cu('certutil -store Root')).toBeUndefined();
    const tool = (file: string, cmd: string) => t1587003.evaluate({ ActionType: 'ProcessCreated', FileName: file, ProcessCommandLine: cmd }, defaults)?.indicators['DetectionBranch'];
    expect(tool('pvk2pfx.exe', 'pvk2pfx -pvk a.pvk -spc a.cer -pfx a.pfx')).toBe(BRANCHES.tool);
    expect(tool('openssl', 'openssl genpkey -algorithm ed25519')).toBe(BRANCHES.tool);
    expect(tool('openssl', 'openssl version')).toBeUndefined();
    const fileEvent = (folder: string, name: string) =>
      t1587003.evaluate({ ActionType: 'FileCreated', FileName: name, FolderPath: folder, InitiatingProcessFileName: 'x.exe' }, defaults)?.indicators['DetectionBranch'];
    expect(fileEvent('C:\\Windows\\Temp\\a.crt', 'a.crt')).toBe(BRANCHES.file);
    expect(fileEvent('C:\\Users\\bob\\Documents\\a.crt', 'a.crt')).toBeUndefined();
    expect(fileEvent('C:\\Windows\\Temp\\a.txt', 'a.txt')).toBeUndefined();
  });
});

describe('over the Sigma regression Sysmon events', () => {
  it('certutil -addstore -f root (rule "New Root Certificate Installed Via Certutil") is a trust-store import', () => {
    const row = sysmon('d2125259-ddea-4c1c-9c22-977eb5b29cf0');
    expect(row).toMatchObject({ FileName: 'certutil.exe', InitiatingProcessFileName: 'cmd.exe', AccountDomain: 'ATTACKRANGE', AccountName: 'Administrator' });
    const hit = hitFromRow(t1587003, row, DEFAULT_TUNING);
    expect(hit?.indicators).toMatchObject({ DetectionBranch: BRANCHES.certutil, TargetsTrustStore: true });
    expect(hit?.entities).toMatchObject({ host: 'ar-win-dc.attackrange.local', account: 'ATTACKRANGE\\Administrator', processName: 'certutil.exe', parentProcessName: 'cmd.exe' });
    expect(hit?.time).toBe('2025-10-25T16:54:23.866Z');
    expect(hit && score(hit, undefined, DEFAULT_TUNING)).toMatchObject({ score: 4, level: 'Medium' });
  });

  it('certutil -exportPFX (export, not import) is not reported', () => {
    const row = sysmon('3ffd6f51-e6c1-47b7-94b4-c1e61d4117c5');
    expect(String(row['ProcessCommandLine'])).toContain('-exportPFX root');
    expect(hitFromRow(t1587003, row, DEFAULT_TUNING)).toBeNull();
  });
});

describe('self-signed certificates made on the command line', () => {
  const cert = (file: string, cmd: string) => t1587003.evaluate({ ActionType: 'ProcessCreated', FileName: file, ProcessCommandLine: cmd }, defaults)?.certificate;

  it('marks makecert -r, openssl req -x509 and New-SelfSignedCertificate self-signed, with the parsed subject', () => {
    expect(cert('makecert.exe', 'makecert.exe -r -pe -n "CN=Microsoft IT TLS CA 5, O=Microsoft Corporation, C=US" -ss Root -sr LocalMachine C:\\Users\\Public\\msit.cer')).toEqual({
      subject: 'CN=Microsoft IT TLS CA 5, O=Microsoft Corporation, C=US',
      subjectCommonName: 'Microsoft IT TLS CA 5',
      selfSigned: true,
    });
    expect(cert('openssl', 'openssl req -x509 -newkey rsa:4096 -nodes -subj "/CN=localhost" -out c.pem')).toMatchObject({ subjectCommonName: 'localhost', selfSigned: true });
    expect(cert('openssl.exe', 'openssl.exe x509 -req -in c.csr -signkey k.pem -out c.crt')).toEqual({ selfSigned: true });
    expect(cert('powershell.exe', 'powershell.exe New-SelfSignedCertificate -DnsName login.c0ntoso.com -CertStoreLocation Cert:\\LocalMachine\\My')).toEqual({ sans: ['login.c0ntoso.com'], selfSigned: true });
  });

  it('does not when a CA signs it, or when nothing is made', () => {
    expect(cert('makecert.exe', 'makecert.exe -pe -n "CN=app.contoso.com" -ic ca.cer -iv ca.pvk -sr LocalMachine -sky exchange app.cer')?.selfSigned).toBeUndefined();
    expect(cert('openssl', 'openssl req -x509 -CA ca.crt -CAkey ca.key -subj /CN=leaf.example.net -out leaf.pem')?.selfSigned).toBeUndefined();
    expect(cert('openssl', 'openssl req -new -key k.pem -subj /CN=csr.example.net -out c.csr')?.selfSigned).toBeUndefined();
    expect(cert('pwsh.exe', 'pwsh.exe -c New-SelfSignedCertificate -DnsName app.contoso.com -Signer $root')?.selfSigned).toBeUndefined();
    expect(cert('certutil.exe', 'certutil.exe -addstore -f Root C:\\Users\\Public\\root.cer')).toBeUndefined();
  });

  it('lets the Storm-0501 "Microsoft IT TLS CA 5" root reach the vendor signal and a higher level', () => {
    const row = { TimeGenerated: '2026-01-15T06:00:00Z', DeviceName: 'srv-app-09', ActionType: 'ProcessCreated', FileName: 'makecert.exe', ProcessCommandLine: 'makecert.exe -r -pe -n "CN=Microsoft IT TLS CA 5, O=Microsoft Corporation, C=US" -ss Root -sr LocalMachine C:\\Users\\Public\\msit.cer' };
    const hit = hitFromRow(t1587003, row, DEFAULT_TUNING)!;
    const s = score(hit, { missing: [], enrichedAt: '2026-01-15T06:05:00Z' }, DEFAULT_TUNING);
    expect(s.reasons.map((r) => r.id)).toEqual(['cert_tool_execution', 'vendor_root_self_signed']);
    expect(s.level).toBe('High');
  });
});
