import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import { MAX_OBSERVABLES, OBSERVABLE_DETECTION_ID, observablesOfEntity, parseEnrichRequest, parseObservableArgument } from '../../shared/observables.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { INCIDENT_PAYLOAD } from '../helpers/sentinel-incident.js';

const NOW = new Date('2026-11-20T12:00:00Z');
const parse = (body: unknown) => parseEnrichRequest(body, DEFAULT_TUNING, NOW);
const problems = (body: unknown) => {
  try {
    parse(body);
  } catch (err) {
    if (err instanceof ValidationError) return err.problems;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('Sentinel incident-trigger payload', () => {
  it('turns each enrichable related entity into a hit carrying the incident', () => {
    const { hits, skipped } = parse(INCIDENT_PAYLOAD);
    expect(hits.map((h) => h.row.Observable)).toEqual([
      'web01.contoso.com',
      'login.c0ntoso.com',
      'cdn.evil.net',
      'ab'.repeat(32),
      '0563b8630d62d75abbc8ab1e4bdfb5a899b24d43',
    ]);
    expect(hits.every((h) => h.detectionId === OBSERVABLE_DETECTION_ID && h.signals.length === 0)).toBe(true);
    expect(hits[0]!.incident).toEqual({
      armId: INCIDENT_PAYLOAD.object.id,
      incidentNumber: 412,
      title: 'Suspicious certificate',
      severity: 'Medium',
      url: INCIDENT_PAYLOAD.object.properties.incidentUrl,
    });
    expect(hits[0]!.key).toBe(`${INCIDENT_PAYLOAD.object.id}|domain:web01.contoso.com`);
    expect(hits[3]!.certificate).toEqual({ sha256: 'ab'.repeat(32) });
    expect(skipped.map((s) => s.path)).toEqual(['object.properties.relatedEntities[1]', 'object.properties.relatedEntities[6]']);
  });

  it('is stable: the same payload gives the same hit keys', () => {
    expect(parse(INCIDENT_PAYLOAD).hits.map((h) => h.key)).toEqual(parse(INCIDENT_PAYLOAD).hits.map((h) => h.key));
  });

  it('names the failing field of a malformed payload', () => {
    expect(problems({ object: { properties: { relatedEntities: 'nope' } } })).toEqual([{ path: 'object.properties.relatedEntities', message: expect.any(String) }]);
    expect(problems({ object: { properties: { relatedEntities: [{ properties: {} }] } } })[0]!.path).toBe('object.properties.relatedEntities[0].kind');
  });

  it(`caps the number of observables at ${MAX_OBSERVABLES}`, () => {
    const many = Array.from({ length: MAX_OBSERVABLES + 5 }, (_, i) => ({ kind: 'DnsResolution', properties: { domainName: `d${i}.example.org` } }));
    const { hits, skipped } = parse({ object: { properties: { relatedEntities: many } } });
    expect(hits).toHaveLength(MAX_OBSERVABLES);
    expect(skipped).toHaveLength(5);
  });

  it('reads certificate thumbprints from registry values and SHA-1 file hashes', () => {
    expect(observablesOfEntity('RegistryValue', { keyPath: 'HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates\\' + 'A'.repeat(40), valueName: 'Blob' })).toEqual([
      { kind: 'sha1', sha1: 'a'.repeat(40) },
    ]);
    expect(observablesOfEntity('FileHash', { algorithm: 'SHA1', hashValue: 'B'.repeat(40) })).toEqual([{ kind: 'sha1', sha1: 'b'.repeat(40) }]);
    expect(observablesOfEntity('FileHash', { algorithm: 'MD5', hashValue: 'c'.repeat(32) })).toEqual([]);
  });
});

describe('hunt hit {detectionId, row}', () => {
  const row = {
    TimeGenerated: '2026-11-20T10:00:00Z',
    DeviceVendor: 'Check Point',
    DeviceAction: 'accept',
    SourceIP: '10.1.1.1',
    DestinationIP: '203.0.113.9',
    DestinationPort: 443,
    DestinationHostName: 'x.evil.net',
    AdditionalExtensions: 'ssl_subject=CN=x.evil.net;ssl_issuer=CN=x.evil.net',
  };

  it('runs the detection twin over the row', () => {
    const { hits } = parse({ detectionId: 'T1608.003', row });
    expect(hits).toHaveLength(1);
    expect(hits[0]!.signals.map((s) => s.id)).toContain('self_signed');
    expect(hits[0]!.entities.destinationHost).toBe('x.evil.net');
  });

  it('answers no hit (and says why) when the row does not match', () => {
    expect(parse({ detectionId: 'T1608.003', row: { ...row, DestinationPort: 22 } })).toEqual({ hits: [], skipped: [{ path: 'row', reason: 'the row is not a T1608.003 hit' }] });
  });

  it('names the failing field', () => {
    expect(problems({ detectionId: 'T9999', row })[0]!.path).toBe('detectionId');
    expect(problems({ detectionId: 'T1608.003', row: [1] })[0]!.path).toBe('row');
    expect(problems({ detectionId: 'T1608.003' })[0]!.path).toBe('row');
  });
});

describe('bare observables', () => {
  it('accepts {domain}, {sha1}, {sha256} and {host, port}', () => {
    expect(parse({ domain: 'WWW.Example.COM.' }).hits[0]!.entities).toEqual({ destinationHost: 'www.example.com', domains: ['www.example.com'] });
    expect(parse({ sha1: '05:63:B8:63:0D:62:D7:5A:BB:C8:AB:1E:4B:DF:B5:A8:99:B2:4D:43' }).hits[0]!.certificate).toEqual({ sha1: '0563b8630d62d75abbc8ab1e4bdfb5a899b24d43' });
    expect(parse({ sha256: 'cd'.repeat(32) }).hits[0]!.key).toBe(`sha256:${'cd'.repeat(32)}`);
    expect(parse({ host: 'vpn.example.com', port: '8443' }).hits[0]!.entities).toEqual({ destinationHost: 'vpn.example.com', destinationPort: 8443, domains: ['vpn.example.com'] });
    expect(parse({ host: '[2001:db8::1]', port: 443 }).hits[0]!.entities).toEqual({ destinationIp: '2001:db8::1', destinationPort: 443, domains: [] });
    const h = parse({ domain: 'example.com' }).hits[0]!;
    expect(h).toMatchObject({ detectionId: 'observable', signals: [], time: NOW.toISOString() });
  });

  it('names the failing field', () => {
    expect(problems({ domain: 'not a domain' })[0]!.path).toBe('domain');
    expect(problems({ sha1: 'abc' })[0]!.path).toBe('sha1');
    expect(problems({ sha256: 'ab'.repeat(20) })[0]!.path).toBe('sha256');
    expect(problems({ host: 'a.example.com' })[0]!.path).toBe('port');
    expect(problems({ host: 'a.example.com', port: 70000 })[0]!.path).toBe('port');
    expect(problems({ domain: 'a.example.com', extra: 1 })[0]!.message).toMatch(/extra/);
    expect(problems({ hello: 'world' })[0]!.path).toBe('');
    expect(problems([1, 2])[0]!.message).toMatch(/JSON object/);
  });
});

describe('parseObservableArgument (CLI)', () => {
  it('tells the forms apart', () => {
    expect(parseObservableArgument('example.com')).toEqual({ kind: 'domain', domain: 'example.com' });
    expect(parseObservableArgument('a'.repeat(40))).toEqual({ kind: 'sha1', sha1: 'a'.repeat(40) });
    expect(parseObservableArgument('B'.repeat(64))).toEqual({ kind: 'sha256', sha256: 'b'.repeat(64) });
    expect(parseObservableArgument('example.com:8443')).toEqual({ kind: 'hostport', host: 'example.com', port: 8443 });
    expect(parseObservableArgument('[::1]:443')).toEqual({ kind: 'hostport', host: '::1', port: 443 });
    expect(() => parseObservableArgument('no way')).toThrow(ValidationError);
  });
});
