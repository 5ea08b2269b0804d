import { describe, expect, it } from 'vitest';
import { certificateAge, eventTimeOf } from '../../../shared/enrichment/certificate-age.js';
import type { TlsProbeResult } from '../../../shared/model.js';

const NOW = new Date('2026-11-29T00:00:00Z');

describe('eventTimeOf', () => {
  it("is the threat's first row, else the hit's time, never later than now", () => {
    expect(eventTimeOf({ time: '2020-04-30T00:44:44.752Z' }, NOW).toISOString()).toBe('2020-04-30T00:44:44.752Z');
    const threat = { key: 'k', id: 'i', occurrences: 2, firstSeen: '2020-04-30T00:40:44.736Z', lastSeen: '2020-04-30T00:44:44.752Z', sources: { hosts: [], accounts: [], hostsOmitted: 0, accountsOmitted: 0 }, withoutCertificate: 0, rowsDigest: 'd' };
    expect(eventTimeOf({ time: '2020-04-30T00:44:44.752Z', threat }, NOW).toISOString()).toBe('2020-04-30T00:40:44.736Z');
    expect(eventTimeOf({ time: 'not a time' }, NOW)).toBe(NOW);
    expect(eventTimeOf({ time: '2030-01-01T00:00:00Z' }, NOW)).toBe(NOW);
  });
});

describe('certificateAge at the event time', () => {
  it('a certificate logged 20 minutes after its notBefore is 0.01 days old whenever the hunt runs', () => {
    const at = eventTimeOf({ time: '2020-04-30T00:20:00Z' }, NOW);
    expect(certificateAge(at, { log: { notBefore: '2020-04-30T00:00:00Z' } })).toEqual({ notBefore: '2020-04-30T00:00:00.000Z', ageDays: 0.01, from: 'log', asOf: '2020-04-30T00:20:00.000Z' });
  });

  it("a probe's certificate issued after the event is not the one the event saw: no age from it", () => {
    const probe = (notBefore: string): TlsProbeResult => ({ host: 'c2.example', port: 443, chain: [{ subject: 'CN=c2', issuer: 'CN=c2', sans: [], notBefore, notAfter: '2027-01-01T00:00:00Z', sha256: 'a'.repeat(64), serialNumber: '01' }], selfSigned: true, authorized: false });
    const at = new Date('2026-01-10T00:00:00Z');
    expect(certificateAge(at, { probe: probe('2026-02-01T00:00:00Z') })).toBeUndefined();
    expect(certificateAge(at, { probe: probe('2026-01-08T00:00:00Z') })).toMatchObject({ from: 'tls_probe', ageDays: 2 });
  });
});
