import { describe, expect, it } from 'vitest';
import { getDetection, hitFromRow } from '../../../shared/detections/index.js';
import type { Row } from '../../../shared/model.js';
import { findSuppression } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { tuningWarnings } from '../../../shared/scoring/tuning-check.js';

/**
 * Issue 11 item 6: the default suppressions key on what the adversary does not control. Each
 * reproducer below was suppressed by the earlier defaults (issuer "*Issuing CA*", processName
 * agent.exe / updater.exe, parentProcessName java.exe) and is a finding now, under the defaults
 * and under an organisation that filled in its facts.
 */
const ORGANISATION = parseTuning({
  organisation: { addressRanges: ['10.0.0.0/8'], tlsInspectionAppliances: ['10.1.1.5'], buildHosts: ['ci-*'], redTeamAccounts: ['CONTOSO\\redteam-*'] },
});
const THUMB = '3b1efd3a66ea28b16697394703a72ca340a05bd5';

const registryWrite = (over: Row): Row => ({
  TimeGenerated: '2026-11-20T11:00:00.000Z',
  DeviceId: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  DeviceName: 'ws-fin-017.contoso.com',
  ActionType: 'RegistryValueSet',
  RegistryKey: `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\${THUMB}`,
  RegistryValueName: 'Blob',
  InitiatingProcessAccountDomain: 'contoso',
  InitiatingProcessAccountName: 'alice',
  InitiatingProcessParentFileName: 'explorer.exe',
  ReportId: 4411,
  ...over,
});

const REPRODUCERS: Array<{ name: string; detection: string; row: Row }> = [
  {
    name: 'a C2 certificate whose issuer CN is "Update Issuing CA"',
    detection: 'T1608.003',
    row: {
      TimeGenerated: '2026-11-20T10:15:00.000Z',
      SourceIP: '10.20.30.40',
      SourceHostName: 'WS-FIN-017',
      DeviceAction: 'allow',
      DeviceVendor: 'Palo Alto Networks',
      DestinationIP: '198.51.100.23',
      DestinationPort: 443,
      DestinationHostName: 'telemetry.sync-cloudnet.com',
      AdditionalExtensions: 'ssl_subject=CN=cdn.sync-cloudnet.com;ssl_issuer=CN=Update Issuing CA,DC=update,DC=local',
    },
  },
  {
    name: 'a root-store write by agent.exe from Temp',
    detection: 'T1588.004',
    row: registryWrite({ InitiatingProcessFileName: 'agent.exe', InitiatingProcessFolderPath: 'C:\\Users\\alice\\AppData\\Local\\Temp\\agent.exe' }),
  },
  {
    name: 'a root-store write by updater.exe from Users\\Public',
    detection: 'T1588.004',
    row: registryWrite({ InitiatingProcessFileName: 'updater.exe', InitiatingProcessFolderPath: 'C:\\Users\\Public\\updater.exe' }),
  },
  {
    name: 'openssl started by java.exe',
    detection: 'T1587.003',
    row: {
      TimeGenerated: '2026-11-20T12:00:00.000Z',
      DeviceId: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
      DeviceName: 'web-01.contoso.com',
      ActionType: 'ProcessCreated',
      AccountDomain: 'contoso',
      AccountName: 'svc-app',
      FileName: 'openssl.exe',
      FolderPath: 'C:\\Users\\Public\\openssl.exe',
      ProcessCommandLine: 'openssl.exe req -x509 -newkey rsa:2048 -nodes -subj "/CN=cdn.sync-cloudnet.com" -keyout c2.key -out c2.crt',
      InitiatingProcessFileName: 'java.exe',
      InitiatingProcessCommandLine: 'java.exe -jar app.jar',
      ReportId: 101,
    },
  },
];

describe('default suppressions an adversary cannot trigger', () => {
  for (const r of REPRODUCERS) {
    it(`${r.name} is a finding, not suppressed`, () => {
      const hit = hitFromRow(getDetection(r.detection), r.row, DEFAULT_TUNING);
      expect(hit, 'the row must be a hit for the test to mean anything').not.toBeNull();
      expect(findSuppression(hit!, DEFAULT_TUNING)).toBeUndefined();
      expect(findSuppression(hit!, ORGANISATION)).toBeUndefined();
    });
  }

  it('the same writers from their installed paths are still suppressed', () => {
    const msiexec = hitFromRow(getDetection('T1588.004'), registryWrite({ InitiatingProcessFileName: 'msiexec.exe', InitiatingProcessFolderPath: 'c:\\windows\\system32\\msiexec.exe' }), DEFAULT_TUNING)!;
    expect(findSuppression(msiexec, DEFAULT_TUNING)?.rule).toBe('approved-cert-store-writer');
    const renamed = hitFromRow(getDetection('T1588.004'), registryWrite({ InitiatingProcessFileName: 'msiexec.exe', InitiatingProcessFolderPath: 'C:\\Users\\Public\\msiexec.exe' }), DEFAULT_TUNING)!;
    expect(findSuppression(renamed, DEFAULT_TUNING)).toBeUndefined();
  });

  it('an internal-CA issuer counts only on the organisation\'s addresses; the CA root by thumbprint', () => {
    const internal = { ...REPRODUCERS[0]!.row, DestinationIP: '10.60.2.15' };
    const hit = hitFromRow(getDetection('T1608.003'), internal, DEFAULT_TUNING)!;
    expect(findSuppression(hit, DEFAULT_TUNING)?.rule).not.toBe('internal-ca-issuer');
    expect(findSuppression(hit, ORGANISATION)?.rule).toBe('internal-ca-issuer');
    const root = hitFromRow(getDetection('T1588.004'), registryWrite({ InitiatingProcessFileName: 'powershell.exe' }), DEFAULT_TUNING)!;
    expect(findSuppression(root, DEFAULT_TUNING)).toBeUndefined();
    expect(findSuppression(root, parseTuning({ organisation: { internalCaThumbprints: [THUMB.toUpperCase()] } }))?.rule).toBe('internal-ca-certificate');
  });

  it('no default rule keys only on adversary-chosen text; a user rule that does still works, with a warning', () => {
    expect(tuningWarnings(DEFAULT_TUNING)).toEqual([]);
    const tuning = parseTuning({ suppressions: { add: [{ id: 'our-updater', reason: 'our updater', when: { processName: ['updater.exe'] } }] } });
    expect(tuningWarnings(tuning).map((w) => w.path)).toEqual([`tuning.suppressions[${tuning.suppressions.length - 1}] (our-updater)`]);
    const hit = hitFromRow(getDetection('T1588.004'), REPRODUCERS[2]!.row, DEFAULT_TUNING)!;
    expect(findSuppression(hit, tuning)?.rule).toBe('our-updater');
  });
});
