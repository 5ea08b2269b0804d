import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Detection } from '../../../shared/detections/types.js';
import { type HuntDeps, type HuntLogger, chunks, huntDetection, piecesUnder } from '../../../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../../../shared/hunting/log-analytics.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { MemoryHitSink } from '../../../shared/state/hit-queue.js';
import { MemoryHuntState } from '../../../shared/state/hunt-state.js';
import { MemorySeenHits } from '../../../shared/state/seen-hits.js';
import { type LaRecord, type LogAnalyticsServer, startLogAnalyticsServer } from '../../helpers/log-analytics-server.js';
import { TEST_SCHEMA, testEvents, fakeCredential, testDetection } from './test-detection.js';
import { logAnalyticsSource } from '../../../shared/hunting/sources/hunt-source.js';

const MIN = 60_000;
let server: LogAnalyticsServer;
beforeAll(async () => {
  server = await startLogAnalyticsServer({ schemas: [TEST_SCHEMA] });
});
afterAll(async () => {
  await server.close();
});

let clock: Date;
let deps: HuntDeps & { state: MemoryHuntState; sink: MemoryHitSink };
let logged: { level: string; message: string }[];

beforeEach(() => {
  server.tables = { TestEvents: [] };
  server.evaluationErrors = [];
  server.faults = [];
  server.requests = [];
  server.counts = [];
  server.rowLimit = 500_000;
  delete server.faultFor;
  clock = new Date('2026-03-01T12:00:00Z');
  server.now = () => clock;
  logged = [];
  const log: HuntLogger = {
    info: (message) => logged.push({ level: 'info', message }),
    warn: (message) => logged.push({ level: 'warn', message }),
    error: (message) => logged.push({ level: 'error', message }),
  };
  deps = {
    source: logAnalyticsSource(createLogsQueryClient(fakeCredential(), { endpoint: server.endpoint, retry: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 5 } }), '11111111-2222-3333-4444-555555555555'),
    state: new MemoryHuntState(),
    seen: new MemorySeenHits(),
    sink: new MemoryHitSink(),
    tuning: DEFAULT_TUNING,
    settings: { overlapMs: 10 * MIN, ingestionDelayMs: 5 * MIN, maxWindowMs: 60 * MIN, initialLookbackMs: 120 * MIN, seenHitTtlMs: 7 * 86_400_000 },
    limits: { minSliceMs: MIN },
    now: () => clock,
    log,
  };
});

let nextId = 1;
/** A row generated at `generated`, ingested `lagMin` later and queryable `visibleMin` after that. */
function event(generated: string, lagMin = 0, visibleMin = 0): number {
  const id = nextId++;
  const t = new Date(generated);
  const ingestedAt = new Date(t.getTime() + lagMin * MIN);
  testEvents(server).push({ row: { TimeGenerated: t.toISOString(), EventId: id, Host: `h${id}`, Extra: null }, ingestedAt, visibleAt: new Date(ingestedAt.getTime() + visibleMin * MIN) });
  return id;
}
const sentIds = () => deps.sink.hits.map((h) => Number(h.indicators.EventId));
const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * MIN));

describe('huntDetection', () => {
  it('first run looks back HUNT_INITIAL_LOOKBACK to now − delay; the next starts at the watermark − overlap; overlap rows are sent once', async () => {
    const a = event('2026-03-01T10:30:00Z'); // in the first window
    const tooOld = event('2026-03-01T09:59:00Z'); // before the initial lookback
    const b = event('2026-03-01T11:50:00Z'); // ingested 11:50, before the end (11:55)
    const late = event('2026-03-01T11:45:00Z', 8, 8); // ingested 11:53, queryable only at 12:01
    const r1 = await huntDetection(testDetection, deps);
    expect(r1).toMatchObject({ status: 'ok', window: { start: '2026-03-01T10:00:00.000Z', end: '2026-03-01T11:55:00.000Z' }, watermark: '2026-03-01T11:55:00.000Z' });
    expect(r1.queries).toBe(2); // 115 minutes in 60-minute chunks
    expect(sentIds().sort()).toEqual([a, b].sort());
    expect(sentIds()).not.toContain(tooOld);

    advance(15);
    const r2 = await huntDetection(testDetection, deps);
    expect(r2.window).toEqual({ start: '2026-03-01T11:45:00.000Z', end: '2026-03-01T12:10:00.000Z' });
    expect(r2.hits).toBe(2); // b again (overlap) and the late row
    expect(r2.newHits).toBe(1);
    expect(sentIds()).toHaveLength(3);
    expect(new Set(sentIds())).toEqual(new Set([a, b, late]));
    expect(await deps.state.getHealth('TEST.001')).toMatchObject({ healthy: true });
  });

  it('a long outage is hunted in HUNT_MAX_WINDOW chunks, the watermark moving chunk by chunk; a failing chunk stops there', async () => {
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T06:00:00Z'), undefined);
    const ids = [event('2026-03-01T06:30:00Z'), event('2026-03-01T07:30:00Z'), event('2026-03-01T08:30:00Z'), event('2026-03-01T09:30:00Z')];
    // Every query of the 08:00–09:00 chunk fails with 500 (the SDK retries once).
    server.faultFor = ({ window }) => (window?.start.toISOString() === '2026-03-01T07:50:00.000Z' ? { kind: 'server-error', status: 500 } : undefined);
    const r1 = await huntDetection(testDetection, deps);
    expect(r1.status).toBe('incomplete');
    expect(r1.watermark).toBe('2026-03-01T07:50:00.000Z'); // after two chunks: 05:50–06:50, 06:50–07:50
    expect(sentIds()).toEqual([ids[0], ids[1]]);
    expect(r1.problems.join()).toMatch(/TEST\.001.*HTTP 500.*watermark kept at 2026-03-01T07:50:00.000Z/);

    delete server.faultFor;
    const r2 = await huntDetection(testDetection, deps);
    expect(r2.status).toBe('ok');
    expect(r2.window?.start).toBe('2026-03-01T07:40:00.000Z');
    expect(sentIds()).toEqual(ids);
    expect(r2.watermark).toBe('2026-03-01T11:55:00.000Z');
  });

  it('an answer cut at the row limit is split in halves until every slice fits; no partial row is used', async () => {
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:10:00Z'), undefined);
    const ids = Array.from({ length: 12 }, (_, i) => event(new Date(Date.parse('2026-03-01T11:01:00Z') + i * 4 * MIN).toISOString()));
    server.rowLimit = 4;
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('ok');
    expect(sentIds().sort((x, y) => x - y)).toEqual(ids);
    expect(r.queries).toBeGreaterThan(3);
    expect(server.requests.filter((q) => q.rows >= 4).length).toBeGreaterThan(0); // the server did cut answers
    expect(logged.some((l) => l.level === 'warn' && /splitting/.test(l.message))).toBe(true);
  });

  it('an answer with more hits than maxHitsPerSlice is recorded in batches from memory, never asked for again', async () => {
    deps.limits = { minSliceMs: MIN, maxHitsPerSlice: 3 };
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:10:00Z'), undefined);
    const ids = Array.from({ length: 10 }, (_, i) => event(new Date(Date.parse('2026-03-01T11:01:00Z') + i * 5 * MIN).toISOString()));
    const batches: number[] = [];
    const send = deps.sink.send.bind(deps.sink);
    deps.sink.send = async (hits) => {
      batches.push(hits.length);
      await send(hits);
    };
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('ok');
    expect(sentIds().sort((x, y) => x - y)).toEqual(ids);
    expect(r.queries).toBe(1);
    expect(server.requests.reduce((n, q) => n + q.rows, 0)).toBe(10); // every row downloaded once
    expect(batches).toEqual([3, 3, 3, 1]);
    expect(r.watermark).toBe('2026-03-01T11:55:00.000Z');
  });

  it('a partial error or a 504 splits the slice; rows of the partial answer are not sent', async () => {
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:40:00Z'), undefined);
    const ids = [event('2026-03-01T11:35:00Z'), event('2026-03-01T11:45:00Z'), event('2026-03-01T11:50:00Z')];
    server.faults.push({ kind: 'partial-error' }, { kind: 'gateway-timeout' }, { kind: 'gateway-timeout' });
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('ok');
    expect(server.requests.map((q) => q.fault ?? q.status)).toEqual(['partial-error', 'gateway-timeout', 'gateway-timeout', 200, 200, 200]);
    expect(sentIds().sort((x, y) => x - y)).toEqual(ids);
  });

  it('a partial error in the smallest slice: nothing sent for it, watermark kept', async () => {
    deps.limits = { minSliceMs: 60 * MIN };
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:40:00Z'), undefined);
    event('2026-03-01T11:45:00Z');
    event('2026-03-01T11:46:00Z');
    server.faults.push({ kind: 'partial-error' });
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('failed');
    expect(r.watermark).toBe('2026-03-01T11:40:00.000Z');
    expect(deps.sink.hits).toEqual([]);
    expect((await deps.state.getWatermark('TEST.001'))?.value.toISOString()).toBe('2026-03-01T11:40:00.000Z');
  });

  it('400: a clear error naming the detection, the detection unhealthy, the watermark kept; a later good run heals it', async () => {
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:40:00Z'), undefined);
    event('2026-03-01T11:45:00Z');
    server.faults.push({ kind: 'bad-request' });
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('unhealthy');
    const error = logged.find((l) => l.level === 'error')?.message ?? '';
    expect(error).toContain('detection TEST.001 (Test detection) is unhealthy');
    expect(error).toContain("Failed to resolve column or scalar expression named 'NoSuchColumn'");
    expect(error).toContain('watermark kept at 2026-03-01T11:40:00.000Z');
    expect(await deps.state.getHealth('TEST.001')).toMatchObject({ healthy: false, reason: expect.stringContaining('BadArgumentError') });
    expect((await deps.state.getWatermark('TEST.001'))?.value.toISOString()).toBe('2026-03-01T11:40:00.000Z');
    expect(deps.sink.hits).toEqual([]);

    const again = await huntDetection(testDetection, deps);
    expect(again.status).toBe('ok');
    expect(await deps.state.getHealth('TEST.001')).toMatchObject({ healthy: true });
    expect(deps.sink.hits).toHaveLength(1);
  });

  it('invalid detection parameters in the tuning make the detection unhealthy without querying', async () => {
    deps.tuning = parseTuning({ detections: { 'TEST.001': { lookback: 42 } } });
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('unhealthy');
    expect(r.problems[0]).toMatch(/tuning\.detections\.TEST\.001\.lookback/);
    expect(server.requests).toHaveLength(0);
  });

  it('an ad-hoc window (since) returns every hit in it and neither reads nor moves the state', async () => {
    await deps.state.setWatermark('TEST.001', new Date('2026-03-01T11:50:00Z'), undefined);
    const old = event('2026-03-01T09:00:00Z');
    await deps.seen.markSeen('TEST.001', [`test-${old}`], clock, 86_400_000);
    const r = await huntDetection(testDetection, deps, { sinceMs: 4 * 60 * MIN });
    expect(r.window).toEqual({ start: '2026-03-01T08:00:00.000Z', end: '2026-03-01T11:55:00.000Z' });
    expect(sentIds()).toEqual([old]);
    expect((await deps.state.getWatermark('TEST.001'))?.value.toISOString()).toBe('2026-03-01T11:50:00.000Z');
  });

  it('stops starting slices when the run budget is spent', async () => {
    deps.limits = { runBudgetMs: -1 };
    const r = await huntDetection(testDetection, deps);
    expect(r.status).toBe('incomplete');
    expect(r.queries).toBe(0);
    expect(r.problems[0]).toMatch(/run budget/);
  });

  it('a row that repeats in one answer is one hit', async () => {
    const id = event('2026-03-01T11:00:00Z');
    testEvents(server).push({ ...(testEvents(server)[0] as LaRecord) });
    const r = await huntDetection(testDetection, deps);
    expect(r.rows).toBe(2);
    expect(sentIds()).toEqual([id]);
  });
});

describe('slices planned by row count', () => {
  it('a slice over maxRowsPerAnswer is counted first and queried in pieces under it: every row downloaded once, every hit sent once', async () => {
    const ids: number[] = [];
    // 90 rows in 11:00..11:30 (3 a minute), 10 more at 11:40: 100 rows in the 10:55..11:55 slice.
    for (let i = 0; i < 90; i++) ids.push(event(new Date(Date.parse('2026-03-01T11:00:00Z') + i * 20_000).toISOString()));
    for (let i = 0; i < 10; i++) ids.push(event('2026-03-01T11:40:00Z'));
    deps.settings = { ...deps.settings, initialLookbackMs: 65 * MIN };
    deps.limits = { minSliceMs: MIN, maxRowsPerAnswer: 40 };
    const r = await huntDetection(testDetection, deps);
    expect(r).toMatchObject({ status: 'ok', rows: 100, newHits: 100 });
    // The evaluator has no ingestion_time() once the query has projected its columns (the docs:
    // "must be used in the context of a table"),
    // so the bins come back without a start and the slice is cut evenly and counted again.
    expect(r.countQueries).toBeGreaterThanOrEqual(2);
    expect(server.counts).toHaveLength(r.countQueries);
    expect(server.requests.length).toBe(r.queries);
    expect(r.queries).toBeGreaterThanOrEqual(3);
    expect(server.requests.every((q) => q.rows <= 40)).toBe(true);
    expect(server.requests.reduce((n, q) => n + q.rows, 0)).toBe(100);
    // The pieces tile the slice: each starts where the one before ended.
    const windows = server.requests.map((q) => q.window as { start: Date; end: Date });
    for (let i = 1; i < windows.length; i++) expect(windows[i]!.start.getTime()).toBe(windows[i - 1]!.end.getTime());
    expect(sentIds().sort((a, b) => a - b)).toEqual(ids);
  });

  it('a slice under the limit costs one count and one query; maxRowsPerAnswer 0 costs no count', async () => {
    event('2026-03-01T11:00:00Z');
    deps.settings = { ...deps.settings, initialLookbackMs: 65 * MIN };
    const r = await huntDetection(testDetection, deps);
    expect(r).toMatchObject({ status: 'ok', queries: 1, countQueries: 1, newHits: 1 });
    deps.limits = { minSliceMs: MIN, maxRowsPerAnswer: 0 };
    deps.state = new MemoryHuntState();
    deps.seen = new MemorySeenHits();
    const again = await huntDetection(testDetection, deps);
    expect(again).toMatchObject({ status: 'ok', queries: 1, countQueries: 0, hits: 1 });
  });

  it('piecesUnder cuts on bin boundaries, keeps an oversized bin whole, and splits evenly when bins have no start', () => {
    const slice = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T00:10:00Z') };
    const at = (m: number) => new Date(slice.start.getTime() + m * MIN);
    expect(piecesUnder(slice, [{ start: at(0), rows: 30 }, { start: at(5), rows: 30 }], 60, MIN)).toBeUndefined();
    const cut = piecesUnder(slice, [{ start: at(0), rows: 30 }, { start: at(1), rows: 30 }, { start: at(2), rows: 500 }, { start: at(7), rows: 1 }], 60, MIN);
    expect(cut?.map((p) => [p.start.getTime(), p.end.getTime(), p.planned])).toEqual([
      [at(0).getTime(), at(2).getTime(), true],
      [at(2).getTime(), at(7).getTime(), true],
      [at(7).getTime(), slice.end.getTime(), true],
    ]);
    const even = piecesUnder(slice, [{ start: undefined, rows: 250 }], 100, MIN);
    expect(even?.map((p) => [p.start.getTime(), p.end.getTime(), p.planned])).toEqual([
      [at(0).getTime(), slice.start.getTime() + 200_000, undefined],
      [slice.start.getTime() + 200_000, slice.start.getTime() + 400_000, undefined],
      [slice.start.getTime() + 400_000, slice.end.getTime(), undefined],
    ]);
  });
});

describe('chunks', () => {
  it('cuts a window into pieces of at most the maximum, contiguous, the last one shorter', () => {
    const c = chunks(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T02:30:00Z'), 60 * MIN);
    expect(c.map((w) => [w.start.toISOString().slice(11, 16), w.end.toISOString().slice(11, 16)])).toEqual([
      ['00:00', '01:00'],
      ['01:00', '02:00'],
      ['02:00', '02:30'],
    ]);
  });
});

export type { Detection };
