import { describe, expect, it } from 'vitest';
import { parseCrtshBody } from '../../../shared/enrichment/crtsh-parse.js';
import { compactHistory, ctHistoryFeatures, matchCertificate } from '../../../shared/enrichment/ct-history.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { dataset, syntheticHistory } from '../../helpers/crtsh-stand-in.js';

const free = DEFAULT_TUNING.enrichment.freeAcmeIssuers;

function history(name: string, domain: string, rawCap = false) {
  const { records, rawRows } = parseCrtshBody(dataset(name));
  return compactHistory(domain, records, rawRows, rawCap, new Date('2023-01-20T00:00:00Z'));
}

describe('CT history features from real answers', () => {
  it('counts precertificate/certificate pairs once and derives the features', () => {
    const h = history('example.com.json', 'example.com');
    const f = ctHistoryFeatures(h, { now: new Date('2023-01-20T00:00:00Z'), freeAcmeIssuers: free, source: 'crtsh' });
    expect(f).toMatchObject({
      domain: 'example.com',
      certificatesTotal: 14,
      distinctIssuers: 7,
      wildcardCertificates: 4,
      issuedLast7Days: 1,
      issuedLast30Days: 1,
      firstSeen: '2014-12-11T14:36:57.000Z', // the cache keeps whole seconds
      truncated: false,
      source: 'crtsh',
      freeAcmeIssuers: [],
    });
    expect(f.certificateInCt).toBeUndefined();
  });

  it('keeps the earliest CT entry of a pair', () => {
    const h = history('example.com.json', 'example.com');
    const pair = h.certs.find((c) => c[0] === 'c1fcb184518c7e3866741236d6b73f1')!;
    expect(new Date(pair[4]! * 1000).toISOString()).toBe('2023-01-13T13:18:21.000Z');
  });

  it('dedups the legacy format by issuer, validity and names', () => {
    const h = history('reddit.com.jsonlist', 'reddit.com');
    expect(h.rawRows).toBe(175);
    expect(h.certs).toHaveLength(155);
    const f = ctHistoryFeatures(h, { now: new Date('2018-09-01T00:00:00Z'), freeAcmeIssuers: free, source: 'cache' });
    expect(f.distinctIssuers).toBe(9);
    expect(f.firstSeen).toBe('2013-03-26T11:43:33.000Z');
    expect(f.source).toBe('cache');
  });

  it('finds the hit certificate by serial and issuer, and reports absence', () => {
    const h = history('example.com.json', 'example.com');
    const inCt = matchCertificate(h, { serialNumber: '0C:1F:CB:18:45:18:C7:E3:86:67:41:23:6D:6B:73:F1', issuerCommonName: 'DigiCert TLS RSA SHA256 2020 CA1' });
    expect(inCt).toMatchObject({ notBefore: '2023-01-13T00:00:00.000Z', notAfter: '2024-02-13T23:59:59.000Z' });
    expect(matchCertificate(h, { serialNumber: '0c1fcb184518c7e3866741236d6b73f1', issuer: "CN=R3, O=Let's Encrypt" })).toBeNull();
    expect(matchCertificate(h, { serialNumber: 'deadbeef' })).toBeNull();
    expect(matchCertificate(h, { issuer: 'CN=anything' })).toBeUndefined();
    const f = ctHistoryFeatures(h, { now: new Date(), freeAcmeIssuers: free, source: 'crtsh', certificate: { serialNumber: 'deadbeef' } });
    expect(f.certificateInCt).toBe(false);
  });

  it('matches legacy answers by common name and notBefore', () => {
    const h = history('example.com.json', 'example.com');
    expect(matchCertificate(h, { subjectCommonName: 'www.example.com', notBefore: '2016-07-14T00:00:00Z' })).not.toBeNull();
  });

  it('reports free ACME issuers and recent issuance', () => {
    const { records, rawRows } = parseCrtshBody(syntheticHistory('burst.test', 25, { notBefore: new Date('2024-05-01T00:00:00Z') }));
    const h = compactHistory('burst.test', records, rawRows, false, new Date());
    const f = ctHistoryFeatures(h, { now: new Date('2024-05-03T00:00:00Z'), freeAcmeIssuers: free, source: 'crtsh' });
    expect(f.freeAcmeIssuers).toEqual(["Let's Encrypt"]);
    expect(f.issuedLast7Days).toBe(25);
    expect(f.firstSeen).toBe('2024-05-01T00:00:00.000Z');
  });
});

describe('matchCertificate against an empty history', () => {
  it('says "not there" for a serial when the domain has no certificate in CT at all (crt.sh answered [])', () => {
    const empty = compactHistory('never-issued.example', [], 0, false, new Date('2023-01-20T00:00:00Z'));
    expect(matchCertificate(empty, { serialNumber: '0c1fcb184518c7e3866741236d6b73f1', issuerCommonName: 'DigiCert TLS RSA SHA256 2020 CA1' })).toBeNull();
  });
});
