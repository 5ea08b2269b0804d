import { loadavg } from 'node:os';
import { TableClient } from '@azure/data-tables';
import { loadConfig } from '../shared/config.js';
import { createCrtshClient } from '../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../shared/enrichment/enricher.js';
import type { Hit } from '../shared/model.js';
import { TableCtCache } from '../shared/state/crtsh-cache.js';
import { startAzurite } from '../test/helpers/azurite.js';
import { startCrtshStandIn, syntheticHistory } from '../test/helpers/crtsh-stand-in.js';
import { type BenchResult, MB, trackPeakRss } from './types.js';

/**
 * 10,000 hits over 500 registrable domains against the crt.sh stand-in answering in 200 ms.
 * Cold: one enricher with an empty LRU and an empty Table cache (Azurite) must ask crt.sh once
 * per domain, and its wall time is compared with the floor (domains × latency ÷ concurrency).
 * Warm: a second enricher instance (empty LRU) sharing the Table cache must ask crt.sh nothing.
 */
const HITS = 10_000;
const DOMAINS = 500;
const LATENCY_MS = 200;
/** The shipped CRTSH_CONCURRENCY unless BENCH_CRTSH_CONCURRENCY overrides it. */
const CONCURRENCY = Number(process.env.BENCH_CRTSH_CONCURRENCY ?? loadConfig({}).CRTSH_CONCURRENCY);

export async function run(): Promise<BenchResult[]> {
  const [crtsh, azurite] = await Promise.all([startCrtshStandIn({ latencyMs: LATENCY_MS }), startAzurite()]);
  crtsh.setDefaultHistory((domain) => syntheticHistory(domain, 25, { notBefore: new Date(Date.now() - 10 * 86_400_000) }));
  try {
    const table = TableClient.fromConnectionString(azurite.connectionString, 'benchcrtshcache', { allowInsecureConnection: true });
    const makeEnricher = () =>
      createEnricher({
        crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 30_000, concurrency: CONCURRENCY, contact: 'bench@certsoar.invalid' }),
        cache: new TableCtCache(table),
        cacheTtlMs: 86_400_000,
      });
    const hits = makeHits();
    const floorMs = (DOMAINS * LATENCY_MS) / CONCURRENCY;

    const memory = trackPeakRss();
    const cold = makeEnricher();
    const cpuBefore = process.cpuUsage();
    let started = performance.now();
    const coldResults = await Promise.all(hits.map((h) => cold.enrich(h)));
    const coldMs = performance.now() - started;
    const coldCpu = process.cpuUsage(cpuBefore);
    const coldRequests = crtsh.requestCount;
    const coldPeakConcurrent = crtsh.peakConcurrent;

    crtsh.reset();
    const warm = makeEnricher();
    started = performance.now();
    const warmResults = await Promise.all(hits.map((h) => warm.enrich(h)));
    const warmMs = performance.now() - started;
    const warmRequests = crtsh.requestCount;
    const peakRss = memory.stop();

    const missing = [...coldResults, ...warmResults].filter((e) => e.missing.length > 0 || !e.ct).length;
    const ratio = coldMs / floorMs;
    const pass = coldRequests === DOMAINS && warmRequests === 0 && ratio <= 1.25 && missing === 0;
    const result: BenchResult = {
      name: 'enrich: 10,000 hits over 500 registrable domains (crt.sh stand-in, 200 ms per answer)',
      figures: {
        hits: HITS,
        distinctDomains: DOMAINS,
        concurrency: CONCURRENCY,
        coldCrtshRequests: coldRequests,
        coldPeakConcurrentRequests: coldPeakConcurrent,
        warmCrtshRequests: warmRequests,
        floorMs: Math.round(floorMs),
        coldWallMs: Math.round(coldMs),
        coldVsFloor: Number(ratio.toFixed(3)),
        warmWallMs: Math.round(warmMs),
        hitsWithoutCt: missing,
        coldCpuMs: Math.round((coldCpu.user + coldCpu.system) / 1000),
        peakRssMB: Number((peakRss / MB).toFixed(1)),
        loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
      },
      pass,
      target: `cold requests = ${DOMAINS}, warm requests = 0, cold wall ≤ 1.25 × floor`,
    };
    return [result];
  } finally {
    await Promise.all([crtsh.stop(), azurite.stop()]);
  }
}

function makeHits(): Hit[] {
  const hits: Hit[] = [];
  for (let i = 0; i < HITS; i++) {
    const domain = `bench-${i % DOMAINS}.com`;
    const host = `h${Math.floor(i / DOMAINS)}.${domain}`;
    hits.push({
      detectionId: 'T1608.003',
      key: `bench-${i}`,
      time: new Date().toISOString(),
      row: {},
      signals: [],
      indicators: {},
      entities: { destinationHost: host, domains: [host] },
      certificate: { subjectCommonName: host, serialNumber: (0x10000 + (i % 25)).toString(16), issuer: "C=US, O=Let's Encrypt, CN=R3" },
    });
  }
  return hits;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(JSON.stringify(r, null, 2));
}
