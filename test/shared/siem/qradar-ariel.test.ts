import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError } from '../../../shared/hunting/log-analytics.js';
import { arielWindow } from '../../../shared/detections/backends/aql.js';
import { arielSearch, type ArielRequest } from '../../../shared/siem/qradar-ariel.js';
import { createSiemHttp } from '../../../shared/siem/siem-http.js';
import { startQradarStandIn, type QradarStandIn } from '../../helpers/qradar-stand-in.js';

const BASE = "SELECT sourceip, destinationip, \"TLS Subject\" FROM events WHERE destinationport = 443";
const t = (iso: string) => new Date(iso);
const WINDOW = { start: t('2026-11-20T10:00:00Z'), end: t('2026-11-20T10:15:00Z') };
const windowed = (base: string) => {
  const w = arielWindow(WINDOW);
  return `${base}\n  AND ${w.guard}\n${w.startStop}`;
};

let qradar: QradarStandIn;
const http = (token = qradar.token) => createSiemHttp({ baseUrl: qradar.baseUrl, headers: { SEC: token, Version: '20.0', Accept: 'application/json' }, timeoutMs: 10_000 });
const request = (over: Partial<ArielRequest> = {}): ArielRequest => ({ aql: windowed(BASE), deadlineMs: 10_000, maxRows: 1000, pageSize: 2, waitSeconds: 1, pollIntervalMs: 50, ...over });

beforeAll(async () => {
  qradar = await startQradarStandIn();
});
afterAll(async () => qradar.close());
beforeEach(() => {
  qradar.faults.length = 0;
  qradar.created.length = 0;
  qradar.deleted.length = 0;
  qradar.polls = 0;
  qradar.pollsToComplete = 3;
  qradar.searches.set(BASE, [
    { event: { sourceip: '10.0.0.5', destinationip: '203.0.113.7' }, receivedAt: t('2026-11-20T10:00:00Z') },
    { event: { sourceip: '10.0.0.6', destinationip: '203.0.113.7' }, receivedAt: t('2026-11-20T10:05:00Z') },
    { event: { sourceip: '10.0.0.7', destinationip: '203.0.113.7' }, receivedAt: t('2026-11-20T10:14:59Z') },
    { event: { sourceip: '10.0.0.8', destinationip: '203.0.113.7' }, receivedAt: t('2026-11-20T10:15:00Z') },
  ]);
});

describe('arielWindow', () => {
  it('bounds the partitions at UTC minutes and the slice exactly by starttime', () => {
    expect(arielWindow({ start: t('2026-11-20T10:00:30Z'), end: t('2026-11-20T10:15:10Z') })).toEqual({
      guard: `starttime >= ${t('2026-11-20T10:00:30Z').getTime()} AND starttime < ${t('2026-11-20T10:15:10Z').getTime()}`,
      startStop: "START '2026-11-20 10:00Z' STOP '2026-11-20 10:15Z'",
    });
  });
});

describe('arielSearch', () => {
  it('creates the search, polls it through WAIT/EXECUTE/SORTING, reads every page with Range and deletes it', async () => {
    const rows = await arielSearch(http(), request());
    expect(rows.map((r) => r.sourceip)).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7']);
    expect(qradar.created).toEqual([{ aql: windowed(BASE), status: 201 }]);
    expect(qradar.deleted).toEqual(['s1']);
  });

  it('answers 422 for AQL the export did not produce: a rejected query', async () => {
    await expect(arielSearch(http(), request({ aql: windowed('SELECT * FROM events WHERE 1=1') }))).rejects.toBeInstanceOf(QueryRejectedError);
  });

  it('retries the Ariel server being unavailable (503, code 1010)', async () => {
    qradar.faults.push({ kind: 'unavailable' });
    const rows = await arielSearch(http(), request());
    expect(rows).toHaveLength(3);
    expect(qradar.created.map((c) => c.status)).toEqual([503, 201]);
  });

  it('gives up at the deadline on a search that never completes, polling at its pace, and still deletes it', async () => {
    qradar.faults.push({ kind: 'never-completes' });
    await expect(arielSearch(http(), request({ deadlineMs: 2500, pollIntervalMs: 400 }))).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(qradar.deleted).toHaveLength(1);
    expect(qradar.polls).toBeLessThanOrEqual(5);
  });

  it('never uses a search that ended in ERROR, nor a short results page', async () => {
    qradar.faults.push({ kind: 'search-error', message: 'Ariel ran out of space' });
    await expect(arielSearch(http(), request())).rejects.toThrow(/ERROR: Ariel ran out of space/);
    qradar.faults.push({ kind: 'short-page' });
    await expect(arielSearch(http(), request())).rejects.toBeInstanceOf(PartialResultError);
  });

  it('reports more records than the slice limit as too large', async () => {
    await expect(arielSearch(http(), request({ maxRows: 2 }))).rejects.toBeInstanceOf(ResultTooLargeError);
  });

  it('names QRADAR_TOKEN when the SEC token is refused', async () => {
    const err = await arielSearch(http('wrong'), request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]?.path).toBe('QRADAR_TOKEN');
  });
});
