import { describe, expect, it } from 'vitest';
import { ctPresence } from '../../../shared/enrichment/ct-presence.js';
import type { CtHistory, Enrichment } from '../../../shared/model.js';

const history = (domain: string, over: Partial<CtHistory> = {}): CtHistory => ({
  domain,
  certificatesTotal: 3,
  issuedLast7Days: 0,
  issuedLast30Days: 0,
  distinctIssuers: 1,
  freeAcmeIssuers: [],
  wildcardCertificates: 0,
  truncated: false,
  source: 'crtsh',
  ...over,
});
const facts = (over: Partial<Enrichment> = {}) => ({ missing: [], ...over });
const withSerial = { certificate: { serialNumber: '0a3f', issuerCommonName: 'DigiCert Global G2 TLS RSA SHA256 2020 CA1', sha1: 'ab'.repeat(20) } };

describe('ctPresence: absent only when no lookup that could have found the certificate did', () => {
  it('is found by any one lookup, and says which', () => {
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('c0ntoso.com', { certificateInCt: false }), ctOtherDomains: [history('contoso.com', { certificateInCt: true })] }))).toEqual({ inCt: true, foundIn: ['contoso.com'] });
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: true }, ct: history('contoso.com', { certificateInCt: false }) }))).toEqual({ inCt: true, foundIn: ['fingerprint'] });
  });

  it('is absent when the fingerprint is not found and every history searched lacks it', () => {
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('c0ntoso.com', { certificateInCt: false }), ctOtherDomains: [history('contoso.com', { certificateInCt: false })] })).inCt).toBe(false);
    // a thumbprint alone (T1588.004): the fingerprint lookup is the only one that could find it
    expect(ctPresence({ certificate: { sha1: 'ab'.repeat(20) } }, facts({ ctCertificate: { found: false } })).inCt).toBe(false);
  });

  it('cannot tell after a failed or skipped lookup, a truncated history or one that cannot decide', () => {
    const failed = { source: 'crtsh' as const, reason: 'CT history of contoso.com: crt.sh unavailable', retryable: true };
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('c0ntoso.com', { certificateInCt: false }), missing: [failed] })).inCt).toBeUndefined();
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('contoso.com', { certificateInCt: false, truncated: true }) })).inCt).toBeUndefined();
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('contoso.com') })).inCt).toBeUndefined();
    expect(ctPresence(withSerial, facts()).inCt).toBeUndefined();
    // a failed probe is not a CT lookup
    expect(ctPresence(withSerial, facts({ ctCertificate: { found: false }, ct: history('contoso.com', { certificateInCt: false }), missing: [{ source: 'tls_probe', reason: 'timeout', retryable: true }] })).inCt).toBe(false);
  });
});
