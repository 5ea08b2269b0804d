import { describe, expect, it } from 'vitest';
import type { Hit } from '../../../shared/model.js';
import { groupHits } from '../../../shared/threats/group-hits.js';
import { SESSION_WITHOUT_CERTIFICATE, isSessionWithoutCertificate, threatIdentity } from '../../../shared/threats/threat-key.js';
import { DAY, nashuaHits, resumedSessions } from './fixtures.js';

const options = { quietMs: 7 * DAY, endpointLookbackMs: 7 * DAY };

/** A TLS hit to one shared address (a CDN edge or a redirector) under a given SNI and certificate. */
function tls(key: string, time: string, sni: string, sha1?: string): Hit {
  return {
    detectionId: 'T1608.003',
    key,
    time,
    row: {},
    signals: sha1 ? [{ id: 'self_signed', points: 3, reason: 'self-signed' }] : [],
    indicators: sha1 ? {} : { [SESSION_WITHOUT_CERTIFICATE]: true },
    entities: { sourceIp: '10.0.0.5', destinationIp: '203.0.113.9', destinationPort: 443, destinationHost: sni, domains: [] },
    ...(sha1 ? { certificate: { sha1, subject: `CN=${sni}`, issuer: `CN=${sni}`, selfSigned: true } } : {}),
  };
}

describe('threat identity', () => {
  it('T1608.003: endpoint, SNI when it is a name, and the certificate', () => {
    const [first] = nashuaHits();
    expect(threatIdentity(first!)).toEqual({ key: 'T1608.003 192.168.0.4:8443 sha1 d9105746ea023ecdc6a47e7b4d026d5308525b8c', endpoint: '192.168.0.4:8443' });
    expect(threatIdentity(tls('a', '2026-01-01T00:00:00Z', 'a.example', 'a'.repeat(40))).key).toBe(`T1608.003 203.0.113.9:443 (a.example) sha1 ${'a'.repeat(40)}`);
  });

  it('a session is certificate-less when marked so, or with neither certificate fields nor signals', () => {
    expect(isSessionWithoutCertificate(resumedSessions(1, { shiftMs: 0 })[0]!)).toBe(true);
    expect(isSessionWithoutCertificate(nashuaHits()[0]!)).toBe(false);
    const unmarked = { ...tls('u', '2026-01-01T00:00:00Z', 'a.example'), indicators: {} };
    expect(isSessionWithoutCertificate(unmarked)).toBe(true);
    expect(isSessionWithoutCertificate({ ...unmarked, signals: [{ id: 'hostname_mismatch', points: 2, reason: 'r' }] })).toBe(false);
  });
});

describe('groupHits', () => {
  it('two threats behind one address: a resumed session joins the one its SNI names, else the nearest in time', () => {
    const a = tls('a1', '2026-01-01T10:00:00Z', 'a.example', 'a'.repeat(40));
    const b = tls('b1', '2026-01-01T12:00:00Z', 'b.example', 'b'.repeat(40));
    const toA = tls('r1', '2026-01-01T12:05:00Z', 'a.example');
    const noName = { ...tls('r2', '2026-01-01T11:55:00Z', '203.0.113.9'), entities: { ...tls('r2', '', '203.0.113.9').entities, destinationHost: '203.0.113.9' } };
    const { groups, unattributed } = groupHits([a, b, toA, noName], options);
    expect(unattributed).toEqual([]);
    const keysOf = (sni: string) => groups.find((g) => g.identity.serverName === sni)!.hits.map((h) => h.key);
    expect(keysOf('a.example')).toEqual(['a1', 'r1']);
    expect(keysOf('b.example')).toEqual(['r2', 'b1']);
  });

  it('without the destination IP only the SNI ties a session to a threat', () => {
    const noIp = (h: Hit): Hit => ({ ...h, entities: { ...h.entities, destinationIp: undefined } as Hit['entities'] });
    const a = noIp(tls('a1', '2026-01-01T10:00:00Z', 'a.example', 'a'.repeat(40)));
    const named = noIp(tls('r1', '2026-01-01T10:01:00Z', 'a.example'));
    const other = noIp(tls('r2', '2026-01-01T10:01:00Z', 'b.example'));
    const { groups, unattributed } = groupHits([a, named, other], options);
    expect(groups.map((g) => g.hits.map((h) => h.key))).toEqual([['a1', 'r1']]);
    expect(unattributed.map((h) => h.key)).toEqual(['r2']);
  });

  it('a resumed session more than the lookback after the threat is not attributed', () => {
    const a = tls('a1', '2026-01-01T10:00:00Z', 'a.example', 'a'.repeat(40));
    const late = tls('r1', '2026-01-09T10:00:01Z', 'a.example');
    const { groups, unattributed } = groupHits([a, late], options);
    expect(groups.map((g) => g.hits.length)).toEqual([1]);
    expect(unattributed.map((h) => h.key)).toEqual(['r1']);
  });

  it('the strongest row with a certificate represents the threat', () => {
    const weak = tls('w', '2026-01-01T10:00:00Z', 'a.example', 'a'.repeat(40));
    const strong = { ...tls('s', '2026-01-01T10:05:00Z', 'a.example', 'a'.repeat(40)), signals: [{ id: 'self_signed', points: 3, reason: 'r' }, { id: 'placeholder_cn', points: 2, reason: 'r' }] };
    const { groups } = groupHits([weak, strong, tls('r', '2026-01-01T10:06:00Z', 'a.example')], options);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.representative.key).toBe('s');
    expect(groups[0]!.withoutCertificate).toBe(1);
  });
});
