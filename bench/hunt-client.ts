/**
 * The measured side of bench/hunt.ts, in its own process so its time and peak memory are its
 * own (the server runs in the parent). Modes:
 *   floor: POST the query with plain https, then time a bare JSON.parse of the body;
 *   sdk:   the LogsQueryClient call alone (where the time goes);
 *   hunt:  one huntDetection run through the real LogsQueryClient → rows → hits, with
 *          BENCH_DETECTION = t1608 (the real T1608.003 twin) or narrow (a four-column test detection);
 *          the time spent inside the client's queryWorkspace call is timed too (sdkMs), so the
 *          rest (oursMs: rows, cell checks, twin, hits, seen checks, queue) is ours;
 *   twin:  the T1608.003 twin alone over the sample rows the t1608 answer repeats (µs per row).
 * Prints one JSON line of figures on stdout.
 */
import { request } from 'node:https';
import { huntDetection } from '../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../shared/hunting/log-analytics.js';
import { t1608003 } from '../shared/detections/definitions/t1608-003.js';
import type { Detection } from '../shared/detections/types.js';
import type { Row } from '../shared/model.js';
import { testDetection } from '../test/shared/hunting/test-detection.js';
import { projectedT1608Rows, sampleCefRows } from '../test/shared/hunting/t1608-rows.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';
import type { HitSink } from '../shared/state/hit-queue.js';
import { MemoryHuntState } from '../shared/state/hunt-state.js';
import { MemorySeenHits } from '../shared/state/seen-hits.js';
import { logAnalyticsSource } from '../shared/hunting/sources/hunt-source.js';

const endpoint = process.env.BENCH_ENDPOINT as string;
const workspaceId = '11111111-2222-3333-4444-555555555555';
const now = new Date(process.env.BENCH_NOW as string);
const mode = process.argv[2];
const detection = (process.env.BENCH_DETECTION === 'narrow' ? testDetection : t1608003) as unknown as Detection;

function fetchBody(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/workspaces/${workspaceId}/query`, { method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query: 'CommonSecurityLog' }));
  });
}

async function floorMode(): Promise<Record<string, number>> {
  const text = await fetchBody();
  const started = performance.now();
  const parsed = JSON.parse(text) as { tables: Array<{ rows: unknown[] }> };
  const ms = performance.now() - started;
  return { ms, rows: parsed.tables[0]?.rows.length ?? 0, bytes: Buffer.byteLength(text), peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function twinMode(): Record<string, number> {
  const rows = projectedT1608Rows(sampleCefRows());
  const params = t1608003.paramsSchema.parse({});
  let hits = 0;
  for (let i = 0; i < 5_000; i++) t1608003.evaluate(rows[i % rows.length] as Row, params); // warm-up
  const n = 200_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) if (t1608003.evaluate(rows[i % rows.length] as Row, params)) hits++;
  const ms = performance.now() - started;
  return { usPerRow: (ms * 1000) / n, rows: n, hits };
}

async function main(): Promise<Record<string, number>> {
  if (mode === 'floor') return floorMode();
  if (mode === 'twin') return twinMode();
  const credential = { getToken: async () => ({ token: 'bench', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const logs = createLogsQueryClient(credential, { endpoint, retry: { maxRetries: 0 } });
  if (mode === 'sdk') {
    // Where the time goes: the client alone (transfer, JSON.parse, its two row copies, Dates).
    const started = performance.now();
    const result = await logs.queryWorkspace(workspaceId, 'CommonSecurityLog', { duration: 'P1D' });
    const ms = performance.now() - started;
    const rows = result.status === 'Success' ? (result.tables[0]?.rows.length ?? 0) : -1;
    return { ms, rows, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  // Times the client's own call (request, JSON.parse, its row copies, Date/dynamic cells) inside
  // the hunt run; the call itself is passed through untouched.
  let sdkMs = 0;
  const queryWorkspace = logs.queryWorkspace.bind(logs);
  logs.queryWorkspace = (async (...args: Parameters<typeof logs.queryWorkspace>) => {
    const sdkStarted = performance.now();
    try {
      return await queryWorkspace(...args);
    } finally {
      sdkMs += performance.now() - sdkStarted;
    }
  }) as typeof logs.queryWorkspace;
  // Counts what would go to the queue and keeps nothing, as the queue sink does: the hits of a
  // batch are let go once sent, so peak memory is the hunt's own, not a 500,000-hit array.
  let sent = 0;
  const sink: HitSink = { send: async (hits) => void (sent += hits.length) };
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const result = await huntDetection(detection, {
    source: logAnalyticsSource(logs, workspaceId),
    state: new MemoryHuntState(),
    seen: new MemorySeenHits(),
    sink,
    tuning: DEFAULT_TUNING,
    settings: { overlapMs: 0, ingestionDelayMs: 0, maxWindowMs: 86_400_000, initialLookbackMs: 3_600_000, seenHitTtlMs: 86_400_000 },
    now: () => now,
    // The shipped limits (DEFAULT_HUNT_LIMITS): an answer over maxHitsPerSlice is recorded in batches.
  });
  const ms = performance.now() - started;
  if (result.status !== 'ok') throw new Error(`hunt ${result.status}: ${result.problems.join('; ')}`);
  return { ms, sdkMs, oursMs: ms - sdkMs, rows: result.rows, hits: result.hits, newHits: sent, queries: result.queries, countQueries: result.countQueries, rssBeforeMb: rssBefore / 1024 / 1024, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

main().then(
  (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
