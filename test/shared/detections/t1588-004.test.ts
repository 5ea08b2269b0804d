import { describe, expect, it } from 'vitest';
import { detectionParams } from '../../../shared/detections/index.js';
import { t1588004 } from '../../../shared/detections/definitions/t1588-004.js';
import { parseTuning } from '../../../shared/scoring/tuning.js';

const defaults = t1588004.paramsSchema.parse({});
const THUMB = 'D4DE20D05E66FC53FE1A50882C78DB2852CAE474';
const write = (registryKey: string, process = 'evil.exe', actionType = 'RegistryValueSet') => ({
  TimeGenerated: '2026-11-20T11:00:00Z',
  DeviceName: 'ws-01',
  ActionType: actionType,
  RegistryKey: registryKey,
  RegistryValueName: 'Blob',
  InitiatingProcessFileName: process,
});

describe('T1588.004 trust-store writes', () => {
  it('names the store and extracts the thumbprint for every hive and path form', () => {
    const cases: Array<[string, string, boolean, boolean]> = [
      [`HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates\\${THUMB}`, 'Trusted Root CA', false, false],
      [`HKLM\\Software\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates\\${THUMB}`, 'Third-party Root (AuthRoot)', false, false],
      [`HKEY_CURRENT_USER\\Software\\Microsoft\\SystemCertificates\\CA\\Certificates\\${THUMB}`, 'Intermediate CA', true, false],
      [`HKEY_USERS\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates\\${THUMB}`, 'Trusted Root CA', true, false],
      [`HKEY_USERS\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\Root\\Certificates\\${THUMB}`, 'Trusted Root CA', true, true],
      [`HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\CA\\Certificates\\${THUMB}`, 'Intermediate CA', false, true],
      [`HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\${THUMB}`, 'Trusted Root CA', false, false],
    ];
    for (const [key, storeType, user, policy] of cases) {
      const e = t1588004.evaluate(write(key), defaults);
      expect(e, key).not.toBeNull();
      expect(e?.certificate).toEqual({ sha1: THUMB.toLowerCase(), store: storeType });
      expect(e?.indicators).toMatchObject({ CertStoreType: storeType, IsUserStore: user, IsPolicyStore: policy, CertThumbprint: THUMB.toLowerCase() });
      expect(e?.entities.registryKey).toBe(key);
    }
  });

  it('ignores other stores, look-alike paths, other action types and approved processes', () => {
    const root = `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates\\${THUMB}`;
    expect(t1588004.evaluate(write(root.replace('\\Root\\', '\\Disallowed\\')), defaults)).toBeNull();
    expect(t1588004.evaluate(write(root.replace('\\Root\\', '\\Rootkit\\')), defaults)).toBeNull();
    expect(t1588004.evaluate(write(root.replace('SystemCertificates', 'SystemCertificatesX')), defaults)).toBeNull();
    expect(t1588004.evaluate(write(root, 'evil.exe', 'RegistryValueDeleted'), defaults)).toBeNull();
    expect(t1588004.evaluate({ ...write(root, 'TRUSTEDINSTALLER.EXE'), InitiatingProcessFolderPath: 'C:\\WINDOWS\\servicing\\TrustedInstaller.exe' }, defaults)).toBeNull();
    // The same name anywhere else is not the approved component.
    expect(t1588004.evaluate({ ...write(root, 'TRUSTEDINSTALLER.EXE'), InitiatingProcessFolderPath: 'C:\\Temp\\Windows\\servicing\\TrustedInstaller.exe' }, defaults)).not.toBeNull();
    expect(t1588004.evaluate(write(root, 'evil.exe', 'RegistryKeyCreated'), defaults)).not.toBeNull();
  });

  it('ignores a write that stores no certificate: the Certificates key itself or the store key (issue 11)', () => {
    for (const key of ['HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\Root']) {
      expect(t1588004.evaluate(write(key, 'evil.exe', 'RegistryKeyCreated'), defaults), key).toBeNull();
    }
  });

  it('follows tuning: extra stores, approved writers, allowed thumbprints, weights', () => {
    const params = detectionParams(
      t1588004,
      parseTuning({
        detections: {
          'T1588.004': { stores: ['Root', 'TrustedPublisher'], approvedProcesses: ['evil.exe'], allowedThumbprints: [THUMB.toLowerCase()], weights: { root_store_write: 4 } },
        },
      }),
    ) as typeof defaults;
    const base = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates';
    expect(t1588004.evaluate(write(`${base}\\Root\\Certificates\\${THUMB}`), params)).toBeNull(); // approved writer
    expect(t1588004.evaluate(write(`${base}\\Root\\Certificates\\${THUMB}`, 'other.exe'), params)).toBeNull(); // allowed thumbprint
    const other = '1111111111111111111111111111111111111111';
    expect(t1588004.evaluate(write(`${base}\\Root\\Certificates\\${other}`, 'other.exe'), params)?.signals).toEqual([
      { id: 'root_store_write', points: 4, reason: expect.stringContaining('Trusted Root CA') },
    ]);
    expect(t1588004.evaluate(write(`${base}\\CA\\Certificates\\${other}`, 'other.exe'), params)).toBeNull(); // CA no longer watched
    expect(t1588004.evaluate(write(`${base}\\TrustedPublisher\\Certificates\\${other}`, 'powershell.exe'), params)?.indicators['CertStoreType']).toBe('Trusted Publisher');
    const kql = t1588004.buildQuery(params);
    expect(kql).toContain('((?:Root|TrustedPublisher))');
    expect(kql).toContain(`let AllowedThumbprints = dynamic([@'${THUMB.toLowerCase()}']);`);
    expect(() => t1588004.paramsSchema.parse({ allowedThumbprints: ['not-hex'] })).toThrow();
  });
});
