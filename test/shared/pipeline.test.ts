import { describe, expect, it } from 'vitest';
import type { Enrichment, Finding, Hit } from '../../shared/model.js';
import { findingForHit, findingsForHits, sortFindings, uniqueHits } from '../../shared/pipeline.js';
import { parseTuning } from '../../shared/scoring/tuning.js';

const NOW = new Date('2026-01-15T12:00:00Z');
const tuning = parseTuning({ organisation: { domains: ['contoso.com'], addressRanges: ['10.0.0.0/8'] } });

function hit(key: string, points: number, extra: Partial<Hit> = {}): Hit {
  return {
    detectionId: 'T1608.003',
    key,
    time: `2026-01-15T0${key.length % 10}:00:00.000Z`,
    row: {},
    signals: points ? [{ id: 'self_signed', points, reason: 'issuer equals subject' }] : [],
    indicators: {},
    entities: { destinationHost: `${key}.example.net`, destinationIp: '198.51.100.1', domains: [`${key}.example.net`] },
    ...extra,
  };
}

const noEnrichment: Enrichment = { missing: [], enrichedAt: NOW.toISOString() };

describe('findingsForHits', () => {
  it('enriches each distinct hit once, scores it and sorts best first with suppressed last', async () => {
    const enriched: string[] = [];
    const enricher = {
      enrich: async (h: Hit): Promise<Enrichment> => {
        enriched.push(h.key);
        return noEnrichment;
      },
    };
    const devHost = hit('dev-box', 5, { entities: { host: 'dev-box', destinationHost: 'dev-box', domains: [] } });
    const findings = await findingsForHits([hit('low', 2), hit('high', 5), hit('low', 2), devHost, hit('mid', 3)], { tuning, enricher, now: () => NOW });
    expect(enriched.sort()).toEqual(['dev-box', 'high', 'low', 'mid']);
    expect(findings.map((f) => f.hit.key)).toEqual(['high', 'mid', 'low', 'dev-box']);
    expect(findings.map((f) => f.level)).toEqual(['High', 'Medium', 'Low', 'High']);
    expect(findings[3]!.suppressedBy?.rule).toBe('dev-test-host');
    // One threat per endpoint and certificate: each hit here is its own threat of one row.
    expect(findings.map((f) => f.occurrences)).toEqual([1, 1, 1, 1]);
    expect(findings[0]!.threatKey).toBe('T1608.003 198.51.100.1:? (high.example.net) no certificate');
    expect(findings[0]!.firstSeen).toBe(findings[0]!.hit.time);
    expect(findings[0]!.scoredAt).toBe(NOW.toISOString());
  });

  it('adds the enrichment signals the enricher makes possible', async () => {
    const enrichment: Enrichment = {
      ct: { domain: 'example.net', firstSeen: '2026-01-13T00:00:00.000Z', certificatesTotal: 1, issuedLast7Days: 1, issuedLast30Days: 1, distinctIssuers: 1, freeAcmeIssuers: [], wildcardCertificates: 0, truncated: false, source: 'crtsh' },
      missing: [],
      enrichedAt: NOW.toISOString(),
    };
    const [f] = await findingsForHits([hit('fresh', 2)], { tuning, enricher: { enrich: async () => enrichment }, now: () => NOW });
    expect(f!.reasons.map((r) => r.id)).toContain('new_domain');
    expect(f!.score).toBeGreaterThan(2);
  });

  it('never loses a hit when the enricher throws: scored on base signals, enrichment listed as missing and retryable', async () => {
    const enricher = {
      enrich: async (): Promise<Enrichment> => {
        throw new Error('boom at https://hooks.example/x?sig=SECRET');
      },
    };
    const f = await findingForHit(hit('x', 3), { tuning, enricher, now: () => NOW });
    expect(f.score).toBe(3);
    expect(f.enrichment.missing.map((m) => m.source)).toEqual(['crtsh', 'certificate_age']);
    expect(f.enrichment.missing.every((m) => m.retryable)).toBe(true);
    expect(JSON.stringify(f)).not.toContain('SECRET');
  });

  it('without an enricher says so, not retryable', async () => {
    const f = await findingForHit(hit('x', 3), { tuning, now: () => NOW });
    expect(f.enrichment.missing[0]).toMatchObject({ source: 'crtsh', retryable: false });
  });

  it('reports progress up to the number of distinct hits and bounds concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const enricher = {
      enrich: async (): Promise<Enrichment> => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight -= 1;
        return noEnrichment;
      },
    };
    const progress: Array<[number, number]> = [];
    const hits = Array.from({ length: 25 }, (_, i) => hit(`h${i}`, 2));
    const findings = await findingsForHits(hits, { tuning, enricher, concurrency: 4, onProgress: (d, t) => progress.push([d, t]) });
    expect(findings).toHaveLength(25);
    expect(peak).toBeLessThanOrEqual(4);
    expect(progress[0]).toEqual([0, 25]);
    expect(progress[progress.length - 1]).toEqual([25, 25]);
  });

  it('handles no hits', async () => {
    expect(await findingsForHits([], { tuning })).toEqual([]);
  });
});

describe('helpers', () => {
  it('uniqueHits keeps the first of each detection and key', () => {
    const a = hit('k', 2);
    const b = { ...hit('k', 3) };
    const c = { ...hit('k', 2), detectionId: 'T1587.003' };
    expect(uniqueHits([a, b, c])).toEqual([a, c]);
  });

  it('sortFindings is stable on ties (newest first, then id)', () => {
    const base = (key: string, time: string): Finding => ({
      id: key,
      hit: { ...hit(key, 2), time },
      enrichment: noEnrichment,
      score: 2,
      level: 'Low',
      reasons: [],
      scoredAt: NOW.toISOString(),
      threatId: `t-${key}`,
      threatKey: key,
      occurrences: 1,
      firstSeen: time,
      lastSeen: time,
      sources: { hosts: [], accounts: [], hostsOmitted: 0, accountsOmitted: 0 },
    });
    const sorted = sortFindings([base('b', '2026-01-01T00:00:00Z'), base('c', '2026-01-02T00:00:00Z'), base('a', '2026-01-01T00:00:00Z')]);
    expect(sorted.map((f) => f.id)).toEqual(['c', 'a', 'b']);
  });
});

describe('findingsForHits: threats and suppressions', () => {
  const c2 = (key: string, host: string, time: string): Hit => ({
    ...hit(key, 3, { time }),
    entities: { host, destinationHost: 'c2.example.net', destinationIp: '198.51.100.1', destinationPort: 443, domains: ['c2.example.net'] },
    certificate: { subject: 'CN=c2.example.net', issuer: 'CN=c2.example.net', sha1: 'c'.repeat(40), selfSigned: true },
  });

  it('a threat is suppressed only when every row is: one row from a dev host does not hide the C2 the finance workstation reaches', async () => {
    const devOnly = await findingsForHits([c2('d1', 'dev-box', '2026-01-15T08:00:00Z'), c2('d2', 'dev-box', '2026-01-15T08:05:00Z')], { tuning, now: () => NOW });
    expect(devOnly).toHaveLength(1);
    expect(devOnly[0]!.suppressedBy?.rule).toBe('dev-test-host');

    const mixed = await findingsForHits([c2('d1', 'dev-box', '2026-01-15T08:00:00Z'), c2('f1', 'ws-fin-1', '2026-01-15T08:05:00Z')], { tuning, now: () => NOW });
    expect(mixed).toHaveLength(1);
    expect(mixed[0]!.suppressedBy).toBeUndefined();
    expect(mixed[0]!.hit.entities.host).toBe('ws-fin-1');
    expect(mixed[0]!.sources.hosts.map((s) => s.name).sort()).toEqual(['dev-box', 'ws-fin-1']);
  });
});
