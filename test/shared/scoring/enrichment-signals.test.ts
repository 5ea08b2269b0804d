import { describe, expect, it } from 'vitest';
import { ctPresence } from '../../../shared/enrichment/ct-presence.js';
import type { Enrichment, Hit } from '../../../shared/model.js';
import { editDistance, enrichmentSignals, lookalikeOf, skeleton } from '../../../shared/scoring/enrichment-signals.js';
import { score } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';

const NOW = '2025-03-10T00:00:00.000Z';
const hit = (over: Partial<Hit> = {}): Hit => ({
  detectionId: 'T1608.003',
  key: 'k',
  time: NOW,
  row: {},
  signals: [],
  indicators: {},
  entities: { domains: [] },
  ...over,
});
const enrichment = (over: Partial<Enrichment> = {}): Enrichment => ({ missing: [], enrichedAt: NOW, ...over });
const ct = (over: Partial<NonNullable<Enrichment['ct']>> = {}): NonNullable<Enrichment['ct']> => ({
  domain: 'example.net',
  firstSeen: '2015-01-01T00:00:00.000Z',
  certificatesTotal: 40,
  issuedLast7Days: 0,
  issuedLast30Days: 1,
  distinctIssuers: 2,
  freeAcmeIssuers: [],
  wildcardCertificates: 0,
  truncated: false,
  source: 'crtsh',
  ...over,
});
/** The enrichment as the enricher stores it: whether the certificate is in CT decided once, by ctPresence. */
const decided = (h: Hit, e: Enrichment): Enrichment => {
  const presence = ctPresence(h, e);
  return presence.inCt === undefined ? e : { ...e, certificateInCt: presence.inCt };
};
const ids = (h: Hit, e: Enrichment, t = DEFAULT_TUNING) => enrichmentSignals(h, decided(h, e), t).map((s) => s.id);
const org = parseTuning({ organisation: { domains: ['contoso.com'], addressRanges: ['203.0.113.0/24', '2001:db8:1::/48'] } });

describe('enrichment signals', () => {
  it('gives nothing for an old certificate on a long-known domain', () => {
    expect(ids(hit(), enrichment({ ct: ct({ certificateInCt: true }), certificateAge: { notBefore: '2024-12-01T00:00:00Z', ageDays: 99, from: 'ct' } }))).toEqual([]);
  });

  it('flags a certificate issued in the last 7 days, with its points and a reason', () => {
    const signals = enrichmentSignals(hit(), enrichment({ certificateAge: { notBefore: '2025-03-07T00:00:00Z', ageDays: 3, from: 'log' } }), DEFAULT_TUNING);
    expect(signals).toEqual([{ id: 'recent_certificate', points: 2, reason: expect.stringContaining('3 days') }]);
    expect(ids(hit(), enrichment({ certificateAge: { notBefore: '2025-03-02T00:00:00Z', ageDays: 8, from: 'log' } }))).toEqual([]);
  });

  it('flags a registrable domain first seen in CT in the last 30 days, unless the history was truncated', () => {
    expect(ids(hit(), enrichment({ ct: ct({ firstSeen: '2025-02-20T00:00:00Z' }) }))).toEqual(['new_domain']);
    expect(ids(hit(), enrichment({ ct: ct({ firstSeen: '2025-01-20T00:00:00Z' }) }))).toEqual([]);
    expect(ids(hit(), enrichment({ ct: ct({ firstSeen: '2025-02-20T00:00:00Z', truncated: true }) }))).toEqual([]);
  });

  it('flags a certificate absent from CT although a public CA supposedly issued it', () => {
    const h = hit({ certificate: { issuer: "C=US, O=Let's Encrypt, CN=R11", serialNumber: '0abc' } });
    const old = { notBefore: '2025-02-01T00:00:00Z', ageDays: 37, from: 'log' as const };
    expect(ids(h, enrichment({ ct: ct({ certificateInCt: false }), certificateAge: old }))).toEqual(['absent_from_ct']);
    // in CT, private issuer, self-signed, truncated history, or too fresh to be logged: no signal
    expect(ids(h, enrichment({ ct: ct({ certificateInCt: true }), certificateAge: old }))).toEqual([]);
    expect(ids(hit({ certificate: { issuer: 'CN=Contoso Issuing CA 2' } }), enrichment({ ct: ct({ certificateInCt: false }), certificateAge: old }))).toEqual([]);
    expect(ids(hit({ certificate: { issuer: 'CN=DigiCert Global Root', selfSigned: true } }), enrichment({ ct: ct({ certificateInCt: false }), certificateAge: old }))).toEqual(['vendor_root_self_signed']);
    expect(ids(h, enrichment({ ct: ct({ certificateInCt: false, truncated: true }), certificateAge: old }))).toEqual([]);
    expect(ids(h, enrichment({ ct: ct({ certificateInCt: false }), certificateAge: { notBefore: '2025-03-09T12:00:00Z', ageDays: 0.5, from: 'log' } }))).toEqual(['recent_certificate']);
    expect(ids(hit({ certificate: { issuerCommonName: 'Sectigo RSA Domain Validation Secure Server CA', sha256: 'ab'.repeat(32) } }), enrichment({ ctCertificate: { found: false } }))).toEqual(['absent_from_ct']);
  });

  it('flags an issuance burst at the tuning threshold', () => {
    expect(ids(hit(), enrichment({ ct: ct({ issuedLast7Days: 20 }) }))).toEqual(['issuance_burst']);
    expect(ids(hit(), enrichment({ ct: ct({ issuedLast7Days: 19 }) }))).toEqual([]);
    expect(ids(hit(), enrichment({ ct: ct({ issuedLast7Days: 5 }) }), parseTuning({ enrichment: { burstThreshold: 5 } }))).toEqual(['issuance_burst']);
  });

  it('flags a certificate for an organisation domain served from outside its ranges (Sea Turtle)', () => {
    const h = (ip: string) => hit({ entities: { domains: [], destinationIp: ip }, certificate: { subjectCommonName: 'mail.contoso.com' } });
    expect(ids(h('198.51.100.7'), enrichment(), org)).toEqual(['own_domain_outside_ranges']);
    expect(ids(h('203.0.113.9'), enrichment(), org)).toEqual([]);
    // the probe's address and SANs count too
    const probe = { host: 'vpn.contoso.com', port: 443, address: '192.0.2.1', chain: [{ subject: 'CN=x', issuer: 'CN=y', sans: ['vpn.contoso.com'], notBefore: NOW, notAfter: NOW, sha256: 'a', serialNumber: '1' }], selfSigned: false, authorized: true };
    expect(ids(hit(), enrichment({ tlsProbe: probe }), org)).toEqual(['own_domain_outside_ranges']);
    // without address ranges nothing can be said
    expect(ids(h('198.51.100.7'), enrichment(), parseTuning({ organisation: { domains: ['contoso.com'] } }))).toEqual([]);
  });

  it('flags a self-signed certificate naming a well-known vendor, matched on whole words', () => {
    expect(ids(hit({ certificate: { subject: 'CN=Microsoft IT TLS CA 5', selfSigned: true } }), enrichment())).toEqual(['vendor_root_self_signed']);
    expect(ids(hit({ certificate: { subject: 'CN=Microsoft IT TLS CA 5', selfSigned: false } }), enrichment())).toEqual([]);
    expect(ids(hit({ certificate: { subject: 'CN=Applesauce Ltd', selfSigned: true } }), enrichment())).toEqual([]);
    expect(ids(hit({ certificate: { subject: 'CN=Google Internet Authority' } }), enrichment({ ctCertificate: { found: false, selfSigned: true } }))).toEqual(['vendor_root_self_signed']);
  });

  it('flags lookalikes of organisation domains, never the domains themselves', () => {
    const look = (name: string) => ids(hit({ entities: { domains: [name] } }), enrichment(), org);
    expect(look('contoso.com')).toEqual([]);
    expect(look('login.contoso.com')).toEqual([]);
    expect(look('c0ntoso.com')).toEqual(['lookalike_domain']);
    expect(look('contosso.com')).toEqual(['lookalike_domain']);
    expect(look('contoso.net')).toEqual(['lookalike_domain']);
    expect(look('xn--cntoso-wqf.com')).toEqual(['lookalike_domain']); // Cyrillic о
    expect(look('contoso-login.com')).toEqual(['lookalike_domain']);
    expect(look('fabrikam.com')).toEqual([]);
  });

  it('takes its points from tuning and feeds the one scorer', () => {
    const tuned = parseTuning({ enrichment: { weights: { recent_certificate: 5 } } });
    const e = enrichment({ certificateAge: { notBefore: '2025-03-08T00:00:00Z', ageDays: 2, from: 'log' } });
    const s = score(hit({ signals: [{ id: 'self_signed', points: 3, reason: 'x' }] }), e, tuned);
    expect(s.score).toBe(8);
    expect(s.level).toBe('High');
    expect(s.reasons.map((r) => r.id)).toEqual(['self_signed', 'recent_certificate']);
  });
});

describe('lookalike helpers', () => {
  it('computes edit distance with transpositions', () => {
    expect(editDistance('contoso', 'contoso')).toBe(0);
    expect(editDistance('contoso', 'cnotoso')).toBe(1);
    expect(editDistance('contoso', 'kontozo')).toBe(2);
  });
  it('collapses homoglyphs', () => {
    expect(skeleton('rnicrosoft')).toBe(skeleton('microsoft'));
    expect(skeleton('раypal')).toBe(skeleton('paypal'));
  });
  it('names how a domain imitates', () => {
    expect(lookalikeOf('rnicrosoft.com', ['microsoft.com'], 1)).toMatchObject({ domain: 'rnicrosoft.com', of: 'microsoft.com', how: 'homoglyphs' });
  });
});

describe('absent_from_ct: only when no lookup that could have found the certificate did', () => {
  const h = hit({ entities: { domains: [], destinationHost: 'webmail.c0ntoso.com' }, certificate: { issuer: 'CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1', serialNumber: '0a3f5c71', sha1: 'ab'.repeat(20), subjectCommonName: 'webmail.contoso.com' } });
  const old = { notBefore: '2025-01-01T00:00:00Z', ageDays: 68, from: 'log' as const };

  it('stays silent when the fingerprint is not found but the serial/issuer matched in the history', () => {
    expect(ids(h, enrichment({ ctCertificate: { found: false }, ct: ct({ domain: 'contoso.com', certificateInCt: true }), certificateAge: old }))).toEqual([]);
  });

  it('stays silent when the match is in the history of a domain the certificate names, not the destination', () => {
    const e = enrichment({
      ctCertificate: { found: false },
      ct: ct({ domain: 'c0ntoso.com', certificateInCt: false }),
      ctOtherDomains: [ct({ domain: 'contoso.com', certificateInCt: true })],
      certificateAge: old,
    });
    expect(ids(h, e)).toEqual([]);
  });

  it('fires when the fingerprint is not found and no history holds the serial', () => {
    const e = enrichment({ ctCertificate: { found: false }, ct: ct({ domain: 'c0ntoso.com', certificateInCt: false }), ctOtherDomains: [ct({ domain: 'contoso.com', certificateInCt: false })], certificateAge: old });
    const signal = enrichmentSignals(h, decided(h, e), DEFAULT_TUNING).find((s) => s.id === 'absent_from_ct');
    expect(signal?.reason).toContain('fingerprint not found; not in the CT history of c0ntoso.com, contoso.com');
  });

  it('never counts a failed lookup as absence', () => {
    const failed = { source: 'crtsh' as const, reason: 'CT history of contoso.com: crt.sh unavailable: HTTP 503', retryable: true };
    // fingerprint not found, primary history without it, the named domain's history failed
    expect(ids(h, enrichment({ ctCertificate: { found: false }, ct: ct({ domain: 'c0ntoso.com', certificateInCt: false }), missing: [failed], certificateAge: old }))).toEqual([]);
    // the fingerprint lookup failed, the history has no match
    expect(ids(h, enrichment({ ct: ct({ domain: 'contoso.com', certificateInCt: false }), missing: [{ ...failed, reason: 'crt.sh unavailable: timeout' }], certificateAge: old }))).toEqual([]);
  });

  it('cannot tell from a history that cannot decide (legacy answer without serials)', () => {
    expect(ids(h, enrichment({ ctCertificate: { found: false }, ct: ct({ domain: 'contoso.com' }), certificateAge: old }))).toEqual([]);
  });
});

describe('vendor_root_self_signed with subjects from command lines', () => {
  it('reads the DN forms makecert, openssl and New-SelfSignedCertificate give', () => {
    const self = (subject: string) => ids(hit({ detectionId: 'T1587.003', certificate: { subject, selfSigned: true } }), enrichment());
    expect(self('CN=Microsoft IT TLS CA 5, O=Microsoft Corporation, C=US')).toEqual(['vendor_root_self_signed']);
    expect(self('/C=US/O=Google Trust Services/CN=GTS Root R9')).toEqual(['vendor_root_self_signed']);
    expect(self('CN = Amazon RSA 2048 M02')).toEqual(['vendor_root_self_signed']);
    // a host name names the vendor only as its registrable domain, not as a label of someone else's host
    expect(self('CN=www.microsoft.com')).toEqual(['vendor_root_self_signed']);
    expect(self('CN=microsoft.contoso.test')).toEqual([]);
    expect(self('/CN=localhost')).toEqual([]);
  });

  it('splits DNs into their values, whatever the separator', async () => {
    const { dnValues } = await import('../../../shared/distinguished-name.js');
    expect(dnValues('CN=Microsoft IT TLS CA 5, O=Microsoft Corporation, C=US')).toEqual(['Microsoft IT TLS CA 5', 'Microsoft Corporation', 'US']);
    expect(dnValues('/C=US/O=Acme/CN=www.acme.test')).toEqual(['US', 'Acme', 'www.acme.test']);
    expect(dnValues('Microsoft IT TLS CA 5')).toEqual(['Microsoft IT TLS CA 5']);
    expect(dnValues('CN="Contoso, Ltd", O=Contoso')).toEqual(['Contoso, Ltd', 'Contoso']);
  });
});
