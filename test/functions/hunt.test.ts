import { InvocationContext, type Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHuntHandler } from '../../functions/hunt.js';
import type { HuntDeps } from '../../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../../shared/hunting/log-analytics.js';
import { loadConfig } from '../../shared/config.js';
import type { Hit } from '../../shared/model.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { type HitSink, QueueHitSink, hitsOfMessage } from '../../shared/state/hit-queue.js';
import { type HuntStateStore, TableHuntState, type Watermark } from '../../shared/state/hunt-state.js';
import { type SeenHitStore, TableSeenHits } from '../../shared/state/seen-hits.js';
import { type StorageClients, decodeQueueMessage, storageClients } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { type LaFault, type LogAnalyticsServer, startLogAnalyticsServer } from '../helpers/log-analytics-server.js';
import { TEST_SCHEMA, testEvents, fakeCredential, prng, testDetection } from '../shared/hunting/test-detection.js';
import type { QueueClient } from '@azure/storage-queue';
import { logAnalyticsSource } from '../../shared/hunting/sources/hunt-source.js';

const MIN = 60_000;
let azurite: AzuriteInstance;
let server: LogAnalyticsServer;
let storage: StorageClients;

beforeAll(async () => {
  [azurite, server] = await Promise.all([startAzurite(), startLogAnalyticsServer({ schemas: [TEST_SCHEMA] })]);
  storage = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!;
});
afterAll(async () => {
  await Promise.all([azurite.stop(), server.close()]);
});

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

function context(name: string, lines: string[]): InvocationContext {
  return new InvocationContext({ functionName: 'hunt-TEST-001', invocationId: name, logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`) });
}

function baseDeps(suffix: string, now: () => Date): HuntDeps & { queue: QueueClient } {
  const queue = storage.queue(`hits-${suffix}`);
  return {
    queue,
    source: logAnalyticsSource(createLogsQueryClient(fakeCredential(), { endpoint: server.endpoint, retry: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 5 } }), '11111111-2222-3333-4444-555555555555'),
    state: new TableHuntState(storage.table(`huntstate${suffix}`), 'functions'),
    seen: new TableSeenHits(storage.table(`seenhits${suffix}`), 'functions'),
    sink: new QueueHitSink(queue),
    tuning: DEFAULT_TUNING,
    settings: { overlapMs: 10 * MIN, ingestionDelayMs: 5 * MIN, maxWindowMs: 60 * MIN, initialLookbackMs: 120 * MIN, seenHitTtlMs: 7 * 86_400_000 },
    limits: { minSliceMs: 30_000, queryDeadlineMs: 20_000 },
    now,
  };
}

async function drain(queue: QueueClient): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (;;) {
    const got = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
    if (got.receivedMessageItems.length === 0) return hits;
    for (const m of got.receivedMessageItems) hits.push(...(hitsOfMessage(decodeQueueMessage(m.messageText)) as Hit[]));
  }
}

function resetServer(now: () => Date) {
  server.tables = { TestEvents: [] };
  server.evaluationErrors = [];
  server.faults = [];
  server.requests = [];
  server.rowLimit = 500_000;
  delete server.faultFor;
  server.now = now;
}

describe('hunt timer function', () => {
  it('queues the new hits, moves the watermark in Table Storage and logs through the invocation context', async () => {
    let clock = new Date('2026-02-01T12:00:00Z');
    resetServer(() => clock);
    const deps = baseDeps('basic', () => clock);
    testEvents(server).push(
      { row: { TimeGenerated: '2026-02-01T11:00:00Z', EventId: 1, Host: 'a', Extra: null }, ingestedAt: new Date('2026-02-01T11:01:00Z') },
      { row: { TimeGenerated: '2026-02-01T11:50:00Z', EventId: 2, Host: 'b', Extra: null }, ingestedAt: new Date('2026-02-01T11:52:00Z') },
    );
    const lines: string[] = [];
    const handler = makeHuntHandler(testDetection, () => deps);
    const result = await handler(timer, context('run-1', lines));
    expect(result).toMatchObject({ status: 'ok', newHits: 2, watermark: '2026-02-01T11:55:00.000Z' });
    const queued = await drain(deps.queue);
    expect(queued.map((h) => h.key).sort()).toEqual(['test-1', 'test-2']);
    expect(queued.find((h) => h.key === 'test-1')).toMatchObject({ detectionId: 'TEST.001', row: { EventId: 1, Host: 'a', TimeGenerated: '2026-02-01T11:00:00.000Z' } });
    expect((await deps.state.getWatermark('TEST.001'))?.value.toISOString()).toBe('2026-02-01T11:55:00.000Z');
    expect(lines.some((l) => /^information: TEST\.001: ok; 2 queries, 2 rows, 2 hits, 2 new/.test(l))).toBe(true);

    clock = new Date('2026-02-01T12:15:00Z');
    await handler(timer, context('run-2', lines));
    expect(await drain(deps.queue)).toEqual([]); // overlap rows were seen
  });

  it('fails the invocation with the detection named when the service rejects the query, keeping the watermark', async () => {
    const clock = new Date('2026-02-01T12:00:00Z');
    resetServer(() => clock);
    const deps = baseDeps('rejected', () => clock);
    await deps.state.setWatermark('TEST.001', new Date('2026-02-01T11:30:00Z'), undefined);
    server.faults.push({ kind: 'bad-request' });
    const lines: string[] = [];
    await expect(makeHuntHandler(testDetection, () => deps)(timer, context('run-bad', lines))).rejects.toThrow(/hunt TEST\.001 unhealthy/);
    expect(lines.some((l) => l.startsWith('error: detection TEST.001 (Test detection) is unhealthy') && l.includes('BadArgumentError'))).toBe(true);
    expect((await deps.state.getWatermark('TEST.001'))?.value.toISOString()).toBe('2026-02-01T11:30:00.000Z');
    expect(await deps.state.getHealth('TEST.001')).toMatchObject({ healthy: false });
  });
});

/** A crash at a chosen point: the store throws, which ends the run right there like a dead process would. */
class Crashes {
  afterSend = false;
  afterMark = false;
  sentInRun = 0;
  /** Hits that reached the queue in runs that crashed before marking them seen. */
  sentThenCrashed = 0;
  crashesAfterSend = 0;
  crashesAfterMark = 0;
}

function crashingSink(inner: HitSink, crashes: Crashes): HitSink {
  return {
    send: async (hits) => {
      await inner.send(hits);
      crashes.sentInRun = hits.length;
    },
  };
}

function crashingSeen(inner: SeenHitStore, crashes: Crashes): SeenHitStore {
  return {
    unseen: (...a) => inner.unseen(...a),
    purgeExpired: (...a) => inner.purgeExpired(...a),
    markSeen: async (...a) => {
      if (crashes.afterSend && crashes.sentInRun > 0) {
        crashes.afterSend = false;
        crashes.crashesAfterSend++;
        crashes.sentThenCrashed += crashes.sentInRun;
        throw new Error('simulated crash between enqueue and mark-seen');
      }
      return inner.markSeen(...a);
    },
  };
}

function crashingState(inner: HuntStateStore, crashes: Crashes): HuntStateStore {
  return {
    getWatermark: (id) => inner.getWatermark(id),
    getHealth: (id) => inner.getHealth(id),
    setHealth: (id, h) => inner.setHealth(id, h),
    setWatermark: async (id: string, value: Date, previous: Watermark | undefined) => {
      if (crashes.afterMark) {
        crashes.afterMark = false;
        crashes.crashesAfterMark++;
        throw new Error('simulated crash between mark-seen and watermark');
      }
      return inner.setWatermark(id, value, previous);
    },
  };
}

describe('simulation: consecutive timer runs with random faults and late rows', () => {
  it('turns every row that arrives within the lookback into exactly one queued hit', async () => {
    const random = prng(20261122);
    const t0 = new Date('2026-02-01T00:00:00Z').getTime();
    const SLOTS = 64;
    const RUN_EVERY = 15 * MIN;
    const simEnd = t0 + SLOTS * RUN_EVERY;
    let clock = new Date(t0);
    resetServer(() => clock);
    server.rowLimit = 15; // answers get cut often, so slices split

    // Rows: TimeGenerated anywhere from the first window on; ingested up to 20 minutes later;
    // queryable up to 9 minutes after ingestion (inside HUNT_INGESTION_DELAY + HUNT_OVERLAP).
    const expected = new Set<string>();
    let id = 0;
    for (let i = 0; i < 400; i++) {
      const generated = t0 - 115 * MIN + random() * (simEnd - 60 * MIN - (t0 - 115 * MIN));
      const ingestedAt = generated + random() * 20 * MIN;
      const visibleAt = ingestedAt + random() * 9 * MIN;
      testEvents(server).push({ row: { TimeGenerated: new Date(generated).toISOString(), EventId: ++id, Host: `h${id}`, Extra: { i } }, ingestedAt: new Date(ingestedAt), visibleAt: new Date(visibleAt) });
      expected.add(`test-${id}`);
    }
    // Outside the lookback: arrived two days after it happened, or ingested before the first window.
    for (let i = 0; i < 5; i++) {
      const ingestedAt = t0 + random() * (simEnd - t0 - 60 * MIN);
      testEvents(server).push({ row: { TimeGenerated: new Date(ingestedAt - 2 * 86_400_000).toISOString(), EventId: ++id, Host: 'late', Extra: null }, ingestedAt: new Date(ingestedAt) });
      testEvents(server).push({ row: { TimeGenerated: new Date(t0 - 200 * MIN).toISOString(), EventId: ++id, Host: 'old', Extra: null }, ingestedAt: new Date(t0 - 190 * MIN) });
    }

    const faultKinds: LaFault[] = [
      { kind: 'throttle', retryAfterSeconds: 0 },
      { kind: 'server-error', status: 500 },
      { kind: 'server-error', status: 503 },
      { kind: 'gateway-timeout' },
      { kind: 'partial-error' },
      { kind: 'truncate' },
      { kind: 'reset' },
    ];
    let faulting = true;
    server.faultFor = () => (faulting && random() < 0.15 ? faultKinds[Math.floor(random() * faultKinds.length)] : undefined);

    const crashes = new Crashes();
    const base = baseDeps('sim', () => clock);
    const deps: HuntDeps = { ...base, sink: crashingSink(base.sink, crashes), seen: crashingSeen(base.seen, crashes), state: crashingState(base.state, crashes) };
    const handler = makeHuntHandler(testDetection, () => deps);

    const statuses: string[] = [];
    const watermarks: number[] = [];
    let outages = 0;
    let skip = 0;
    const invoke = async (n: number) => {
      crashes.sentInRun = 0;
      const lines: string[] = [];
      try {
        statuses.push((await handler(timer, context(`run-${n}`, lines))).status);
      } catch {
        statuses.push('threw');
      }
      const w = await base.state.getWatermark('TEST.001');
      if (w) watermarks.push(w.value.getTime());
    };

    for (let slot = 0; slot < SLOTS; slot++) {
      clock = new Date(t0 + slot * RUN_EVERY + Math.floor(random() * 60_000));
      if (skip > 0) {
        skip--;
        continue;
      }
      if (slot > 2 && random() < 0.06) {
        outages++;
        skip = 3 + Math.floor(random() * 6); // the function app was down for 1–2 hours
        continue;
      }
      crashes.afterSend = random() < 0.1;
      crashes.afterMark = !crashes.afterSend && random() < 0.1;
      await invoke(slot);
    }
    // The service calms down; a few more runs catch up.
    faulting = false;
    crashes.afterSend = crashes.afterMark = false;
    for (let k = 1; k <= 3; k++) {
      clock = new Date(simEnd + k * RUN_EVERY);
      await invoke(SLOTS + k);
    }

    const queued = await drain(base.queue);
    const counts = new Map<string, number>();
    for (const h of queued) counts.set(h.key, (counts.get(h.key) ?? 0) + 1);

    // The run really was hostile.
    expect(statuses.length).toBeGreaterThanOrEqual(50);
    const kinds = new Set(server.requests.map((r) => r.fault).filter(Boolean));
    expect([...kinds].sort()).toEqual(['gateway-timeout', 'partial-error', 'reset', 'server-error', 'throttle', 'truncate']);
    expect(server.requests.filter((r) => !r.fault && r.rows >= 15).length).toBeGreaterThan(0); // answers cut at the row limit
    expect(statuses.filter((s) => s !== 'ok').length).toBeGreaterThan(3);
    expect(crashes.crashesAfterSend).toBeGreaterThan(0);
    expect(crashes.crashesAfterMark).toBeGreaterThan(0);
    expect(outages).toBeGreaterThan(0);

    // None lost, none unexpected.
    expect(new Set(counts.keys())).toEqual(expected);
    // None duplicated, except exactly the hits that reached the queue in a run that died before
    // marking them seen (the consumer's idempotency absorbs those; see hunt-detection.ts).
    expect(queued.length - counts.size).toBe(crashes.sentThenCrashed);
    expect(crashes.sentThenCrashed).toBeGreaterThan(0);
    // The watermark never moved backwards.
    for (let i = 1; i < watermarks.length; i++) expect(watermarks[i]).toBeGreaterThanOrEqual(watermarks[i - 1] as number);
    expect(statuses.slice(-1)).toEqual(['ok']);
  });
});
