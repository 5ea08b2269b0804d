import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Finding, Level, Signal } from '../../../shared/model.js';

/** The bearer token the ARM stand-in expects, and a credential that hands it out (never a real one). */
export const TOKEN = 'fake-arm-token';
export const fakeCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** A T1608.003 finding as the enrich stage makes it, for the delivery tests. */
export function sampleFinding(overrides: Partial<Finding> & { id?: string; level?: Level } = {}): Finding {
  const reasons: Signal[] = overrides.reasons ?? [
    { id: 'self_signed', points: 3, reason: 'certificate is self-signed' },
    { id: 'hostname_mismatch', points: 2, reason: 'certificate names do not cover update-check.example-cdn.net' },
    { id: 'ct_recent_issuance', points: 1, reason: 'certificate issued 2 days before the connection' },
  ];
  return {
    id: overrides.id ?? '0123456789abcdef0123456789abcdef',
    hit: {
      detectionId: 'T1608.003',
      key: 'k-1',
      time: '2026-11-20T10:15:00.000Z',
      row: { DeviceVendor: 'Palo Alto Networks' },
      signals: reasons.filter((r) => r.id !== 'ct_recent_issuance'),
      indicators: { IsSelfSigned: true },
      entities: {
        host: 'WKS-0042',
        sourceIp: '10.1.2.3',
        destinationIp: '203.0.113.50',
        destinationHost: 'update-check.example-cdn.net',
        destinationPort: 443,
        domains: ['update-check.example-cdn.net'],
      },
      certificate: {
        subject: 'CN=localhost',
        issuer: 'CN=localhost',
        sha256: 'a'.repeat(64),
        notBefore: '2026-11-18T00:00:00.000Z',
        selfSigned: true,
      },
    },
    enrichment: {
      ct: {
        domain: 'example-cdn.net',
        firstSeen: '2026-11-01T08:00:00.000Z',
        certificatesTotal: 3,
        issuedLast7Days: 1,
        issuedLast30Days: 3,
        distinctIssuers: 1,
        freeAcmeIssuers: ["Let's Encrypt"],
        wildcardCertificates: 0,
        certificateInCt: false,
        truncated: false,
        source: 'crtsh',
      },
      certificateAge: { notBefore: '2026-11-18T00:00:00.000Z', ageDays: 2.4, from: 'log' },
      missing: [],
      enrichedAt: '2026-11-20T10:16:00.000Z',
    },
    score: 6,
    level: 'High',
    reasons,
    scoredAt: '2026-11-20T10:16:01.000Z',
    threatId: 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0',
    threatKey: 'T1608.003 203.0.113.50:443 (update-check.example-cdn.net) sha256 ' + 'a'.repeat(64),
    occurrences: 1,
    firstSeen: '2026-11-20T10:15:00.000Z',
    lastSeen: '2026-11-20T10:15:00.000Z',
    sources: { hosts: [{ name: 'WKS-0042', count: 1 }], accounts: [], hostsOmitted: 0, accountsOmitted: 0 },
    ...overrides,
  };
}

/** A finding with every list far too long and every text huge, to push the card past Teams' limit. */
export function oversizedFinding(): Finding {
  const base = sampleFinding({ id: 'ffffffffffffffffffffffffffffffff' });
  const long = 'x'.repeat(5_000);
  base.hit.entities.commandLine = `certutil -addstore root evil.cer ${long}`;
  base.hit.entities.domains = Array.from({ length: 400 }, (_, i) => `host-${i}.very-long-subdomain-name.example-cdn.net`);
  base.hit.certificate!.subject = `CN=${long}`;
  base.reasons = Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, points: 1, reason: `reason number ${i} ${'é'.repeat(300)}` }));
  return base;
}

/** Sea Turtle: the organisation's real certificate (in contoso.com's CT history) served for a lookalike from outside its ranges. */
export function seaTurtleFinding(): Finding {
  const base = sampleFinding({ id: '5ea7017e5ea7017e5ea7017e5ea7017e' });
  const history = base.enrichment.ct!;
  return {
    ...base,
    hit: {
      ...base.hit,
      entities: { ...base.hit.entities, destinationHost: 'webmail.c0ntoso.com', destinationIp: '192.0.2.44', domains: ['webmail.c0ntoso.com', 'webmail.contoso.com'] },
      certificate: { subjectCommonName: 'webmail.contoso.com', issuerCommonName: 'DigiCert Global G2 TLS RSA SHA256 2020 CA1', serialNumber: '0a3f5c71e2d94b8806c1d2e3f4a5b6c7', sha1: 'e1'.repeat(20), notBefore: '2025-06-02T00:00:00.000Z' },
    },
    enrichment: {
      ...base.enrichment,
      ct: { ...history, domain: 'c0ntoso.com', firstSeen: '2026-11-17T09:00:00.000Z', certificateInCt: false },
      ctOtherDomains: [{ ...history, domain: 'contoso.com', firstSeen: '2016-03-01T01:00:02.000Z', certificatesTotal: 6, certificateInCt: true }],
      ctCertificate: { found: false },
      certificateInCt: true,
      certificateFoundIn: ['contoso.com'],
    },
  };
}
