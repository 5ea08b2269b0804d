import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCrtshClient } from '../../../shared/enrichment/crtsh-client.js';
import { MAX_CT_DOMAINS_PER_HIT, createEnricher, domainOf, enricherFromConfig, otherCertificateDomains } from '../../../shared/enrichment/enricher.js';
import { type TlsProbe, createTlsProbe } from '../../../shared/enrichment/tls-probe.js';
import { loadConfig } from '../../../shared/config.js';
import type { Hit } from '../../../shared/model.js';
import { observableHit } from '../../../shared/observables.js';
import { makeFinding } from '../../../shared/scoring/finding.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { TableCtCache } from '../../../shared/state/crtsh-cache.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';
import { type CrtshStandIn, dataset, startCrtshStandIn, syntheticHistory } from '../../helpers/crtsh-stand-in.js';
import { type TlsScenarioServer, startTlsScenarioServer } from '../../helpers/tls-servers.js';

let azurite: AzuriteInstance;
let crtsh: CrtshStandIn;
let tlsServer: TlsScenarioServer;
let tableCounter = 0;

beforeAll(async () => {
  [azurite, crtsh, tlsServer] = await Promise.all([startAzurite(), startCrtshStandIn(), startTlsScenarioServer()]);
  crtsh.setHistory('example.com', dataset('example.com.json'));
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), crtsh?.stop(), tlsServer?.stop()]);
});
beforeEach(() => crtsh.reset());

function table(): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, `crtshcache${++tableCounter}`, { allowInsecureConnection: true });
}

function enricher(options: { table?: TableClient; now?: () => Date; maxAttempts?: number } = {}) {
  const now = options.now ?? (() => new Date('2023-01-20T00:00:00Z'));
  return createEnricher({
    crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 2_000, concurrency: 3, maxAttempts: options.maxAttempts ?? 2, sleep: async () => {}, now }),
    ...(options.table ? { cache: new TableCtCache(options.table, now) } : {}),
    cacheTtlMs: 86_400_000,
    now,
  });
}

const domainHit = (domain: string): Hit => observableHit({ kind: 'domain', domain }, new Date('2023-01-20T00:00:00Z'));

describe('enricher: CT history and the shared cache', () => {
  it('second instance sharing the Table cache makes no crt.sh request', async () => {
    const shared = table();
    const first = await enricher({ table: shared }).enrich(domainHit('www.example.com'));
    expect(crtsh.requestCount).toBe(1);
    expect(first.ct).toMatchObject({ domain: 'example.com', certificatesTotal: 14, distinctIssuers: 7, source: 'crtsh' });
    expect(first.missing).toEqual([]);
    const second = await enricher({ table: shared }).enrich(domainHit('mail.example.com'));
    expect(crtsh.requestCount).toBe(1);
    expect(second.ct).toEqual({ ...first.ct, source: 'cache' });
  });

  it('stores a 10,000-row history across chunked properties under the 64 KiB property limit', async () => {
    crtsh.setHistory('huge-history.com', syntheticHistory('huge-history.com', 10_000));
    const shared = table();
    const first = await enricher({ table: shared }).enrich(domainHit('a.huge-history.com'));
    expect(first.ct).toMatchObject({ truncated: true, certificatesTotal: 10_000 });
    const entity = await shared.getEntity<Record<string, unknown>>('history', 'huge-history.com');
    expect(Number(entity.chunks)).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < Number(entity.chunks); i++) expect((entity[`c${i}`] as Uint8Array).byteLength).toBeLessThanOrEqual(64 * 1024);
    const second = await enricher({ table: shared }).enrich(domainHit('b.huge-history.com'));
    expect(second.ct).toMatchObject({ truncated: true, certificatesTotal: 10_000, source: 'cache' });
    expect(crtsh.requestCount).toBe(1);
  });

  it('asks once per registrable domain however many hits name it (LRU + single flight)', async () => {
    const e = enricher();
    const hits = Array.from({ length: 60 }, (_, i) => domainHit(i % 2 ? `h${i}.example.com` : `h${i}.other-domain.net`));
    await Promise.all(hits.map((h) => e.enrich(h)));
    expect(crtsh.requestCount).toBe(2);
  });

  it('asks again once the cache entry has expired', async () => {
    let now = Date.parse('2023-01-20T00:00:00Z');
    const shared = table();
    const e = enricher({ table: shared, now: () => new Date(now) });
    await e.enrich(domainHit('example.com'));
    now += 86_400_000 + 1;
    await e.enrich(domainHit('example.com'));
    expect(crtsh.requestCount).toBe(2);
  });

  it('still answers while crt.sh is down, naming the missing enrichment as retryable', async () => {
    crtsh.setPersistentFault({ kind: 'status', status: 503 });
    const hit: Hit = { ...domainHit('down.example.com'), certificate: { issuer: "CN=R3, O=Let's Encrypt", notBefore: '2023-01-18T00:00:00Z', serialNumber: '01' } };
    const enrichment = await enricher().enrich(hit);
    expect(enrichment.ct).toBeUndefined();
    expect(enrichment.missing).toEqual([{ source: 'crtsh', reason: expect.stringMatching(/crt\.sh unavailable: HTTP 503/), retryable: true }]);
    expect(enrichment.certificateAge).toMatchObject({ from: 'log', ageDays: 2 });
    const finding = makeFinding(hit, enrichment, DEFAULT_TUNING, new Date('2023-01-20T00:00:00Z'));
    expect(finding.reasons.map((r) => r.id)).toEqual(['recent_certificate']);
    expect(finding.reasons.some((r) => r.id === 'absent_from_ct')).toBe(false);
  });

  it('reports nothing to look up as missing, not retryable', async () => {
    const hit: Hit = { ...domainHit('x.test'), entities: { domains: [], destinationIp: '10.0.0.1' } };
    const enrichment = await createEnricher({ crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 1 }) }).enrich(hit);
    expect(enrichment.missing).toEqual([{ source: 'crtsh', reason: expect.stringMatching(/no registrable domain/), retryable: false }]);
    expect(crtsh.requestCount).toBe(0);
  });
});

describe('enricher: certificate age and CT membership', () => {
  it('dates the certificate from its CT record when the log has no dates', async () => {
    const hit: Hit = { ...domainHit('www.example.com'), certificate: { serialNumber: '0c1fcb184518c7e3866741236d6b73f1', issuerCommonName: 'DigiCert TLS RSA SHA256 2020 CA1' } };
    const e = await enricher().enrich(hit);
    expect(e.ct?.certificateInCt).toBe(true);
    expect(e.certificateAge).toEqual({ notBefore: '2023-01-13T00:00:00.000Z', notAfter: '2024-02-13T23:59:59.000Z', ageDays: 7, from: 'ct', asOf: '2023-01-20T00:00:00.000Z' });
  });

  it('looks a fingerprint up in CT and dates the certificate from it', async () => {
    const { makeCert } = await import('../../helpers/certs.js');
    const cert = await makeCert({ subject: 'CN=fp.example.com', notBefore: new Date('2023-01-01T00:00:00Z'), notAfter: new Date('2023-04-01T00:00:00Z') });
    crtsh.addCertificate({ id: 5150, sha256: cert.sha256, sha1: cert.sha1, pem: cert.certPem });
    const e = await enricher().enrich(observableHit({ kind: 'sha256', sha256: cert.sha256 }, new Date()));
    expect(e.ctCertificate).toMatchObject({ found: true, subject: 'CN=fp.example.com', selfSigned: true });
    expect(e.certificateAge).toMatchObject({ from: 'ct', ageDays: 19 });
    expect(e.missing).toEqual([]);
  });

  it('dates the certificate from a live probe of host:port', async () => {
    const now = () => new Date();
    const e = createEnricher({
      crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 2_000, concurrency: 1 }),
      probe: createTlsProbe({ timeoutMs: 3_000, allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] }),
      now,
    });
    const r = await e.enrich(observableHit({ kind: 'hostport', host: 'fresh.probe.test', port: tlsServer.port }, now()));
    expect(r.tlsProbe?.chain[0]?.sha256).toBe(tlsServer.certs.fresh.sha256);
    expect(r.certificateAge?.from).toBe('tls_probe');
    expect(r.certificateAge?.ageDays).toBeGreaterThanOrEqual(1.9);
    // .test is not a public suffix: no registrable domain, so no CT lookup (and nothing to retry).
    expect(r.ct).toBeUndefined();
    expect(r.missing).toEqual([{ source: 'crtsh', reason: expect.stringMatching(/no registrable domain/), retryable: false }]);
    expect(crtsh.requestCount).toBe(0);
  });

  it('lists a refused probe as missing and not retryable (the default guard)', async () => {
    const e = createEnricher({ probe: createTlsProbe({ timeoutMs: 1_000, allowPrivate: false }) });
    const r = await e.enrich(observableHit({ kind: 'hostport', host: '127.0.0.1', port: tlsServer.port }, new Date()));
    expect(r.missing).toContainEqual({ source: 'tls_probe', reason: expect.stringMatching(/refused to probe/), retryable: false });
    expect(r.tlsProbe).toBeUndefined();
  });
});

describe('enricherFromConfig', () => {
  it('builds a working enricher from settings, with the Table cache from STATE_STORAGE_CONNECTION', async () => {
    const config = loadConfig({ CRTSH_BASE_URL: crtsh.url, STATE_STORAGE_CONNECTION: azurite.connectionString, TLS_PROBE_ENABLED: 'false', CRTSH_CONTACT: 'secops@example.org' });
    const r1 = await enricherFromConfig(config).enrich(domainHit('cfg.example.com'));
    const r2 = await enricherFromConfig(config).enrich(domainHit('cfg2.example.com'));
    expect(r1.ct?.source).toBe('crtsh');
    expect(r2.ct?.source).toBe('cache');
    expect(crtsh.requestCount).toBe(1);
    expect(crtsh.requests[0]!.userAgent).toMatch(/^certsoar\/\S+ \(\+secops@example\.org\)$/);
  });
});

describe('domainOf', () => {
  it('prefers the destination host, then certificate names, public-suffix aware', () => {
    const hit = domainHit('a.b.example.co.uk');
    expect(domainOf(hit)).toBe('example.co.uk');
    expect(domainOf({ ...hit, entities: { domains: [], destinationHost: '10.1.1.1' }, certificate: { subject: 'CN=*.tenant.azurewebsites.net' } })).toBe('tenant.azurewebsites.net');
  });
});

// The example.com answer (real crt.sh data) holds serial 0c1fcb… issued by DigiCert TLS RSA SHA256 2020 CA1.
const EXAMPLE_SERIAL = '0c1fcb184518c7e3866741236d6b73f1';
const DIGICERT = 'DigiCert TLS RSA SHA256 2020 CA1';
const NOW_2023 = new Date('2023-01-20T00:00:00Z');

/** A firewall hit: the organisation's (example.com's) real certificate served for a lookalike destination. */
function seaTurtleHit(over: Partial<Hit['certificate']> = {}): Hit {
  return {
    detectionId: 'T1608.003',
    key: 'sea-turtle',
    time: NOW_2023.toISOString(),
    row: {},
    signals: [],
    indicators: {},
    entities: { destinationHost: 'mail.examp1e.com', destinationIp: '192.0.2.44', destinationPort: 443, domains: ['mail.examp1e.com', 'www.example.com'] },
    certificate: { subjectCommonName: 'www.example.com', sans: ['example.com', 'www.example.com'], serialNumber: EXAMPLE_SERIAL, issuerCommonName: DIGICERT, notBefore: '2023-01-13T00:00:00Z', sha1: 'ab'.repeat(20), ...over },
  };
}

describe('enricher: CT history of the domains the certificate names (Sea Turtle)', () => {
  it('looks up the destination domain and the certificate\'s own, once each, and finds the certificate in the latter', async () => {
    crtsh.setHistory('examp1e.com', syntheticHistory('examp1e.com', 2, { notBefore: new Date('2023-01-18T00:00:00Z') }));
    const e = enricher();
    const enrichment = await e.enrich(seaTurtleHit());
    const histories = crtsh.requests.filter((r) => r.query.q !== undefined).map((r) => r.query.q).sort();
    expect(histories).toEqual(['%.examp1e.com', '%.example.com']);
    expect(enrichment.ct).toMatchObject({ domain: 'examp1e.com', certificateInCt: false });
    expect(enrichment.ctOtherDomains).toEqual([expect.objectContaining({ domain: 'example.com', certificateInCt: true, certificatesTotal: 14 })]);
    expect(enrichment.ctCertificate).toEqual({ found: false });
    expect(enrichment.certificateInCt).toBe(true);
    expect(enrichment.certificateFoundIn).toEqual(['example.com']);
    const tuning = parseTuning({ organisation: { domains: ['example.com'], addressRanges: ['203.0.113.0/24'] } });
    const finding = makeFinding(seaTurtleHit(), enrichment, tuning, NOW_2023);
    expect(finding.reasons.map((r) => r.id)).toContain('own_domain_outside_ranges');
    expect(finding.reasons.map((r) => r.id)).not.toContain('absent_from_ct');

    // a second hit naming the same domains costs no crt.sh history request (cache lifetime)
    const before = crtsh.requests.filter((r) => r.query.q !== undefined).length;
    await e.enrich({ ...seaTurtleHit(), key: 'again', entities: { ...seaTurtleHit().entities, destinationHost: 'webmail.examp1e.com' } });
    expect(crtsh.requests.filter((r) => r.query.q !== undefined).length).toBe(before);
  });

  it('says absent only when the fingerprint is not found and no named domain\'s history holds the serial', async () => {
    crtsh.setHistory('examp1e.com', syntheticHistory('examp1e.com', 2));
    const hit = seaTurtleHit({ serialNumber: '0badc0ffee', notBefore: '2022-12-01T00:00:00Z' });
    const enrichment = await enricher().enrich(hit);
    expect(enrichment.certificateInCt).toBe(false);
    const finding = makeFinding(hit, enrichment, DEFAULT_TUNING, NOW_2023);
    expect(finding.reasons.find((r) => r.id === 'absent_from_ct')?.reason).toMatch(/fingerprint not found; not in the CT history of examp1e\.com, example\.com/);
  });

  it('never takes a failed history lookup of a named domain for absence', async () => {
    crtsh.setHistory('examp1e.com', syntheticHistory('examp1e.com', 2));
    crtsh.setHistory('example.com', () => '<!DOCTYPE html><html><head><title>crt.sh | ERROR!</title></head><body>statement timeout</body></html>');
    try {
      const hit = seaTurtleHit({ serialNumber: '0badc0ffee', notBefore: '2022-12-01T00:00:00Z' });
      const enrichment = await enricher({ maxAttempts: 1 }).enrich(hit);
      expect(enrichment.ctCertificate).toEqual({ found: false });
      expect(enrichment.ct?.certificateInCt).toBe(false);
      expect(enrichment.certificateInCt).toBeUndefined();
      expect(enrichment.missing).toContainEqual({ source: 'crtsh', reason: expect.stringMatching(/^CT history of example\.com: /), retryable: true });
      expect(makeFinding(hit, enrichment, DEFAULT_TUNING, NOW_2023).reasons.map((r) => r.id)).not.toContain('absent_from_ct');
    } finally {
      crtsh.setHistory('example.com', dataset('example.com.json'));
    }
  });

  it('finds the certificate by serial when the fingerprint lookup misses, and says so', async () => {
    const hit: Hit = { ...domainHit('example.com'), certificate: { serialNumber: EXAMPLE_SERIAL, issuer: `C=US, O=DigiCert Inc, CN=${DIGICERT}`, sha1: 'cd'.repeat(20), notBefore: '2023-01-13T00:00:00Z' } };
    const enrichment = await enricher().enrich(hit);
    expect(enrichment.ctCertificate?.found).toBe(false);
    expect(enrichment.ct?.certificateInCt).toBe(true);
    expect(enrichment.certificateInCt).toBe(true);
    expect(makeFinding(hit, enrichment, DEFAULT_TUNING, NOW_2023).reasons.map((r) => r.id)).not.toContain('absent_from_ct');
  });

  it('looks up at most MAX_CT_DOMAINS_PER_HIT registrable domains and says the rest were skipped', async () => {
    const sans = Array.from({ length: 8 }, (_, i) => `www.tenant${i}.com`);
    const hit: Hit = { ...domainHit('cdn.example.com'), certificate: { subjectCommonName: 'cdn.example.com', sans, serialNumber: '0badc0ffee', issuerCommonName: DIGICERT } };
    expect(otherCertificateDomains(hit, 'example.com').others).toHaveLength(MAX_CT_DOMAINS_PER_HIT - 1);
    const enrichment = await enricher().enrich(hit);
    expect(crtsh.requests.filter((r) => r.query.q !== undefined)).toHaveLength(MAX_CT_DOMAINS_PER_HIT);
    expect(enrichment.ctOtherDomains?.map((h) => h.domain)).toEqual(['tenant0.com', 'tenant1.com', 'tenant2.com', 'tenant3.com']);
    expect(enrichment.missing).toContainEqual({ source: 'crtsh', reason: expect.stringMatching(/4 more registrable domain/), retryable: false });
    expect(enrichment.certificateInCt).toBeUndefined();
  });
});

describe('enricher: the live TLS probe only where asked', () => {
  function countingProbe(): TlsProbe & { calls: string[] } {
    const calls: string[] = [];
    const probe: TlsProbe = async (host, port) => {
      calls.push(`${host}:${port}`);
      return { host, port, chain: [], selfSigned: false, authorized: true };
    };
    return Object.assign(probe, { calls });
  }
  const huntHit: Hit = { ...seaTurtleHit(), certificate: undefined, entities: { destinationHost: 'c2.examp1e.net', destinationPort: 8443, domains: [] } };

  it('never probes a hunt hit\'s destination by default: that would tip off whoever runs it', async () => {
    const probe = countingProbe();
    const r = await createEnricher({ probe }).enrich(huntHit);
    expect(probe.calls).toEqual([]);
    expect(r.tlsProbe).toBeUndefined();
    expect(r.missing.some((m) => m.source === 'tls_probe')).toBe(false);
  });

  it('probes a host:port someone asked for, and hunt hits only when TLS_PROBE_ENABLED', async () => {
    const probe = countingProbe();
    await createEnricher({ probe }).enrich(observableHit({ kind: 'hostport', host: 'asked.example.net', port: 443 }, new Date()));
    expect(probe.calls).toEqual(['asked.example.net:443']);
    await createEnricher({ probe, probeHuntHits: true }).enrich(huntHit);
    expect(probe.calls).toEqual(['asked.example.net:443', 'c2.examp1e.net:8443']);
  });

  it('from settings: default TLS_PROBE_ENABLED leaves hunt hits alone and still probes an explicit host:port (loopback, guard opened)', async () => {
    const config = loadConfig({ CRTSH_BASE_URL: crtsh.url, TLS_PROBE_ALLOW_PRIVATE: 'true' });
    expect(config.TLS_PROBE_ENABLED).toBe(false);
    const e = enricherFromConfig(config);
    const before = tlsServer.connections;
    const hunt: Hit = { ...huntHit, entities: { destinationIp: '127.0.0.1', destinationPort: tlsServer.port, domains: [] } };
    expect((await e.enrich(hunt)).tlsProbe).toBeUndefined();
    expect(tlsServer.connections).toBe(before);
    const asked = await e.enrich(observableHit({ kind: 'hostport', host: '127.0.0.1', port: tlsServer.port }, new Date()));
    expect(asked.tlsProbe?.chain.length).toBeGreaterThan(0);
    expect(tlsServer.connections).toBe(before + 1);
    const all = enricherFromConfig(loadConfig({ CRTSH_BASE_URL: crtsh.url, TLS_PROBE_ALLOW_PRIVATE: 'true', TLS_PROBE_ENABLED: 'true' }));
    expect((await all.enrich(hunt)).tlsProbe?.chain.length).toBeGreaterThan(0);
  });

  it('keeps the SSRF guard on an explicit host:port', async () => {
    const e = enricherFromConfig(loadConfig({ CRTSH_BASE_URL: crtsh.url }));
    const before = tlsServer.connections;
    const r = await e.enrich(observableHit({ kind: 'hostport', host: '127.0.0.1', port: tlsServer.port }, new Date()));
    expect(r.tlsProbe).toBeUndefined();
    expect(r.missing).toContainEqual({ source: 'tls_probe', reason: expect.stringMatching(/refused to probe/), retryable: false });
    expect(tlsServer.connections).toBe(before);
  });
});

describe('enricher: certificate age at the event time', () => {
  it('a certificate 20 minutes old when the replayed row was logged is new, though the hunt runs a year later', async () => {
    const hit: Hit = {
      ...domainHit('replayed.example.com'),
      time: '2022-01-18T00:20:00.000Z',
      certificate: { subject: 'CN=replayed.example.com', issuer: 'CN=replayed.example.com', notBefore: '2022-01-18T00:00:00Z', selfSigned: true },
    };
    const enrichment = await enricher({ now: () => new Date('2023-01-20T00:00:00Z') }).enrich(hit);
    expect(enrichment.certificateAge).toMatchObject({ from: 'log', asOf: '2022-01-18T00:20:00.000Z' });
    expect(enrichment.certificateAge?.ageDays).toBeCloseTo(0.01, 2);
    const finding = makeFinding(hit, enrichment, DEFAULT_TUNING, new Date('2023-01-20T00:00:00Z'));
    expect(finding.reasons.find((r) => r.id === 'recent_certificate')?.reason).toMatch(/^certificate issued less than a day before the event/);
  });

  it('a threat is aged at its first row, not at the row shown', async () => {
    const hit: Hit = {
      ...domainHit('grouped.example.com'),
      time: '2022-03-01T00:00:00.000Z',
      certificate: { subject: 'CN=a', issuer: 'CN=b', notBefore: '2022-01-01T00:00:00Z' },
      threat: {
        key: 'k', id: 'id', occurrences: 2, firstSeen: '2022-01-02T00:00:00.000Z', lastSeen: '2022-03-01T00:00:00.000Z',
        sources: { hosts: [], accounts: [], hostsOmitted: 0, accountsOmitted: 0 }, withoutCertificate: 0, rowsDigest: 'd',
      },
    };
    const enrichment = await enricher().enrich(hit);
    expect(enrichment.certificateAge).toMatchObject({ ageDays: 1, asOf: '2022-01-02T00:00:00.000Z' });
  });
});
