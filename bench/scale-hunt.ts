import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config.js';
import type { Detection } from '../shared/detections/types.js';
import { type HuntDeps, huntDetection, huntSettings } from '../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../shared/hunting/log-analytics.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';
import { MemoryHitSink, QueueHitSink } from '../shared/state/hit-queue.js';
import { MemoryHuntState, TableHuntState } from '../shared/state/hunt-state.js';
import { MemorySeenHits, TableSeenHits } from '../shared/state/seen-hits.js';
import { storageClients } from '../shared/state/storage.js';
import { startAzurite } from '../test/helpers/azurite.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../test/helpers/log-analytics-server.js';
import { TEST_SCHEMA, fakeCredential, testDetection, testEvents } from '../test/shared/hunting/test-detection.js';
import type { BenchResult } from './types.js';
import { logAnalyticsSource } from '../shared/hunting/sources/hunt-source.js';

/**
 * The hunt-at-scale side of bench/scale.ts, in its own process (started with the test CA in
 * NODE_EXTRA_CA_CERTS, so the real LogsQueryClient trusts the local Log Analytics stand-in):
 * 10,000 hits through huntDetection with the SHIPPED configuration (Table Storage seen hits and
 * hunt state, the "hits" queue, all on Azurite; the shipped hunt limits) against the same hunt with
 * in-memory stores, both warm. Prints its BenchResult[] as one JSON line.
 */

const HITS = 10_000;
const NOW = new Date('2026-03-01T12:00:00Z');
const MIN = 60_000;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Counts HTTP requests to the given loopback ports (Azurite), below every Azure SDK client. */
function countRequestsTo(ports: Set<string>): { readonly count: number; stop(): void } {
  const original = http.request;
  const counter = { count: 0, stop: () => void (http.request = original) };
  http.request = ((...args: Parameters<typeof http.request>) => {
    const options = args[0] as http.RequestOptions;
    if (options && typeof options === 'object' && ports.has(String(options.port))) counter.count++;
    return original(...args);
  }) as typeof http.request;
  return counter;
}

type Base = Pick<HuntDeps, 'source' | 'tuning' | 'settings' | 'now'>;
interface Measured {
  ms: number;
  calls: number;
  rows: number;
  queries: number;
  countQueries: number;
}
const detection = testDetection as unknown as Detection;
const RUNS = 5;

/** 10,000 rows ingested over the last five hours, every one a hit of the test detection. */
function seed(server: LogAnalyticsServer): void {
  server.now = () => NOW;
  for (let i = 0; i < HITS; i++) {
    const ingestedAt = new Date(NOW.getTime() - 6 * MIN - Math.floor((i * 300 * MIN) / HITS));
    testEvents(server).push({ row: { TimeGenerated: ingestedAt.toISOString(), EventId: i, Host: `ws-${i % 500}.corp.contoso.com`, Extra: { port: 443, sni: `cdn${i % 97}.example.net` } }, ingestedAt });
  }
}

/** One hunt of the whole window with fresh state; its time, storage calls and rows downloaded. */
async function measure(server: LogAnalyticsServer, deps: HuntDeps, ports: Set<string>): Promise<Measured> {
  const calls = countRequestsTo(ports);
  server.requests = [];
  server.counts = [];
  const started = performance.now();
  try {
    const r = await huntDetection(detection, deps);
    if (r.status !== 'ok' || r.newHits !== HITS) throw new Error(`hunt: ${r.status}, ${r.newHits} new hits: ${r.problems.join('; ')}`);
    return { ms: performance.now() - started, calls: calls.count, rows: server.requests.reduce((n, q) => n + q.rows, 0), queries: server.requests.length, countQueries: server.counts.length };
  } finally {
    calls.stop();
  }
}

/** The median run (by time) of RUNS, after one warm-up run. */
async function medianOf(run: (i: number) => Promise<Measured>): Promise<Measured> {
  await run(-1);
  const runs: Measured[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(i));
  return runs.sort((a, b) => a.ms - b.ms)[Math.floor(RUNS / 2)] as Measured;
}

function report(floor: Measured, azure: Measured, uncounted: Measured): BenchResult[] {
  const timeRatio = azure.ms / floor.ms;
  const rowsPerRow = azure.rows / HITS;
  return [
    {
      name: `hunt: ${HITS.toLocaleString('en')} hits, shipped configuration (Azurite Table + Queue, shipped limits) vs in-memory stores (median of ${RUNS})`,
      figures: {
        'in-memory s': round(floor.ms / 1000, 3),
        'shipped s': round(azure.ms / 1000, 3),
        'shipped / in-memory': round(timeRatio),
        // The floor above plans its slices by row count as the shipped hunt does (one count query
        // per slice); the same in-memory hunt without the counts is the stricter floor.
        'in-memory s, no row counts': round(uncounted.ms / 1000, 3),
        'shipped / in-memory without counts': round(azure.ms / uncounted.ms),
        // The in-memory floor makes none; this is the absolute count.
        'storage calls per 10,000 hits': Math.round((azure.calls * 10_000) / HITS),
        'log analytics queries (shipped)': azure.queries,
        'row count queries (shipped)': azure.countQueries,
      },
      pass: timeRatio <= 3,
      target: 'wall time ≤ 3× the in-memory hunt',
    },
    {
      name: 'hunt: rows downloaded per row in the window (shipped limits)',
      figures: { 'rows in window': HITS, 'rows downloaded (shipped)': azure.rows, 'rows downloaded (in-memory run)': floor.rows, 'rows downloaded / row': round(rowsPerRow) },
      pass: rowsPerRow === 1,
      target: '1.0',
    },
  ];
}

export async function huntAtScale(): Promise<BenchResult[]> {
  const [server, azurite] = await Promise.all([startLogAnalyticsServer({ schemas: [TEST_SCHEMA] }), startAzurite()]);
  try {
    seed(server);
    const config = loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString });
    const logs = createLogsQueryClient(fakeCredential(), { endpoint: server.endpoint, retry: { maxRetries: 0 } });
    const base: Base = { source: logAnalyticsSource(logs, '11111111-2222-3333-4444-555555555555'), tuning: DEFAULT_TUNING, settings: huntSettings(config), now: () => NOW };
    const ports = new Set([new URL(azurite.tableEndpoint).port, new URL(azurite.queueEndpoint).port]);
    const clients = storageClients(config) as NonNullable<ReturnType<typeof storageClients>>;
    const floor = await medianOf(() => measure(server, { ...base, state: new MemoryHuntState(), seen: new MemorySeenHits(), sink: new MemoryHitSink() }, ports));
    const uncounted = await medianOf(() => measure(server, { ...base, state: new MemoryHuntState(), seen: new MemorySeenHits(), sink: new MemoryHitSink(), limits: { maxRowsPerAnswer: 0 } }, ports));
    const azure = await medianOf((i) => {
      const scope = `run${i + 1}`; // fresh state each run: every hit is new
      const deps = { ...base, state: new TableHuntState(clients.table('benchhuntstate'), scope), seen: new TableSeenHits(clients.table('benchseenhits'), scope), sink: new QueueHitSink(clients.queue(`bench-hits-${scope}`)) };
      return measure(server, deps, ports);
    });
    return report(floor, azure, uncounted);
  } finally {
    await Promise.all([server.close(), azurite.stop()]);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  huntAtScale().then(
    (results) => process.stdout.write(`${JSON.stringify(results)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
