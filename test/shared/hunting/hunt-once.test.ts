import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { ConfigError, ValidationError } from '../../../shared/errors.js';
import { huntOnce } from '../../../shared/hunting/hunt-once.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { MemoryHuntState } from '../../../shared/state/hunt-state.js';
import { MemorySeenHits } from '../../../shared/state/seen-hits.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../../helpers/log-analytics-server.js';
import { getDetection } from '../../../shared/detections/index.js';
import { sampleCefRows } from './t1608-rows.js';
import { fakeCredential } from './test-detection.js';

const NOW = new Date('2026-01-16T00:00:00Z');
let la: LogAnalyticsServer;
beforeAll(async () => {
  la = await startLogAnalyticsServer();
  la.now = () => NOW;
});
afterAll(async () => {
  await la.close();
});

// The raw sample events; the server executes the hunt's KQL over them.
const rows = sampleCefRows().map((row, i) => ({ ...row, TimeGenerated: new Date(NOW.getTime() - (i + 1) * 60 * 60_000).toISOString() }));
const t1608003 = getDetection('T1608.003');
const hitCount = rows.filter((row) => t1608003.evaluate(row, t1608003.paramsSchema.parse({}))).length;
beforeEach(() => {
  la.tables = { CommonSecurityLog: rows.map((row) => ({ row, ingestedAt: new Date(Date.parse(String(row.TimeGenerated)) + 60_000) })) };
  la.requests = [];
  la.faults = [];
});

function config(extra: Record<string, string> = {}) {
  return loadConfig({ LOG_ANALYTICS_WORKSPACE_ID: '11111111-2222-3333-4444-555555555555', LOG_ANALYTICS_ENDPOINT: la.endpoint, HUNTS_ENABLED: 'T1608.003', ...extra });
}

describe('huntOnce', () => {
  it('hunts the enabled detections once, state in memory: a second run with the same state returns nothing new', async () => {
    const state = { state: new MemoryHuntState(), seen: new MemorySeenHits() };
    const first = await huntOnce({ config: config(), credential: fakeCredential(), tuning: DEFAULT_TUNING, now: () => NOW, state });
    expect(first.problems).toEqual([]);
    expect(hitCount).toBeGreaterThan(3);
    expect(hitCount).toBeLessThan(rows.length);
    expect(first.hits).toHaveLength(hitCount);
    expect(la.evaluationErrors).toEqual([]);
    expect(first.perDetection).toMatchObject([{ detectionId: 'T1608.003', status: 'ok', window: { start: '2026-01-15T00:00:00.000Z', end: '2026-01-15T23:55:00.000Z' } }]);
    const second = await huntOnce({ config: config(), credential: fakeCredential(), tuning: DEFAULT_TUNING, now: () => NOW, state });
    expect(second.hits).toEqual([]);
  });

  it('with since: every hit in the window, the state untouched', async () => {
    const state = { state: new MemoryHuntState(), seen: new MemorySeenHits() };
    const r = await huntOnce({ config: config(), credential: fakeCredential(), tuning: DEFAULT_TUNING, now: () => NOW, since: '3h', state });
    expect(r.perDetection[0]?.window?.start).toBe('2026-01-15T21:00:00.000Z');
    expect(r.hits.map((h) => h.time).every((t) => Date.parse(t) >= Date.parse('2026-01-15T20:59:00Z'))).toBe(true);
    expect(r.hits.length).toBe(3); // generated 23:00, 22:00 and 21:00, each ingested a minute later
    expect(await state.state.getWatermark('T1608.003')).toBeUndefined();
    expect(await state.seen.unseen('T1608.003', r.hits.map((h) => h.key), NOW)).toHaveLength(3);
  });

  it('reports a failing detection as a problem without throwing', async () => {
    la.faults.push({ kind: 'bad-request' });
    const r = await huntOnce({ config: config(), credential: fakeCredential(), tuning: DEFAULT_TUNING, now: () => NOW, detectionIds: ['T1608.003'] });
    expect(r.hits).toEqual([]);
    expect(r.perDetection[0]?.status).toBe('unhealthy');
    expect(r.problems[0]).toMatch(/detection T1608\.003 .* is unhealthy: query rejected \(BadArgumentError\)/);
  });

  it('rejects bad input: unknown detection, bad since, missing workspace', async () => {
    const base = { credential: fakeCredential(), tuning: DEFAULT_TUNING };
    await expect(huntOnce({ ...base, config: config(), detectionIds: ['T0000'] })).rejects.toThrow(ValidationError);
    await expect(huntOnce({ ...base, config: config(), since: 'yesterday' })).rejects.toThrow(/since/);
    await expect(huntOnce({ ...base, config: loadConfig({}) })).rejects.toThrow(ConfigError);
  });
});
