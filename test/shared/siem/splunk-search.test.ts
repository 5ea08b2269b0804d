import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError } from '../../../shared/hunting/log-analytics.js';
import { createSiemHttp } from '../../../shared/siem/siem-http.js';
import { splunkExport, type SplunkSearchRequest } from '../../../shared/siem/splunk-search.js';
import { startSplunkStandIn, type SplunkStandIn } from '../../helpers/splunk-stand-in.js';

const SEARCH = 'search index=main sourcetype=stream:ssl | table _time, dest_ip, ssl_subject';
const t = (iso: string) => new Date(iso);
const WINDOW = { start: t('2026-11-20T10:00:00Z'), end: t('2026-11-20T10:15:00Z') };

let splunk: SplunkStandIn;
const http = () => createSiemHttp({ baseUrl: splunk.baseUrl, headers: { Authorization: `Bearer ${splunk.token}` }, timeoutMs: 10_000 });
const request = (over: Partial<SplunkSearchRequest> = {}): SplunkSearchRequest => ({
  search: SEARCH,
  window: WINDOW,
  lookbackMs: 86_400_000,
  deadlineMs: 10_000,
  maxRows: 1000,
  ...over,
});

beforeAll(async () => {
  splunk = await startSplunkStandIn();
});
afterAll(async () => splunk.close());
beforeEach(() => {
  splunk.faults.length = 0;
  splunk.exports.length = 0;
  splunk.searches.set(SEARCH, [
    { result: { dest_ip: '203.0.113.7', ssl_subject: 'CN=a' }, indexedAt: t('2026-11-20T10:01:00Z'), eventAt: t('2026-11-20T10:00:30Z') },
    { result: { dest_ip: '203.0.113.8', ssl_subject: 'CN=b' }, indexedAt: t('2026-11-20T10:14:59Z'), eventAt: t('2026-11-19T12:00:00Z') },
    // indexed after the slice: the next slice's
    { result: { dest_ip: '203.0.113.9', ssl_subject: 'CN=c' }, indexedAt: t('2026-11-20T10:15:00Z'), eventAt: t('2026-11-20T10:14:00Z') },
    // indexed in the slice but older than the lookback guard
    { result: { dest_ip: '203.0.113.10', ssl_subject: 'CN=d' }, indexedAt: t('2026-11-20T10:05:00Z'), eventAt: t('2026-11-18T10:00:00Z') },
  ]);
});

describe('splunkExport', () => {
  it('sends the exact search with the slice as index time and a lookback guard on event time, and reads the JSON lines', async () => {
    const rows = await splunkExport(http(), request());
    expect(rows.map((r) => r.dest_ip)).toEqual(['203.0.113.7', '203.0.113.8']);
    const form = splunk.exports[0]!.form;
    expect(form.get('output_mode')).toBe('json');
    expect(form.get('index_earliest')).toBe(String(WINDOW.start.getTime() / 1000) + '.000');
    expect(form.get('index_latest')).toBe(String(WINDOW.end.getTime() / 1000) + '.000');
    expect(Number(form.get('earliest_time')) * 1000).toBe(WINDOW.start.getTime() - 86_400_000);
  });

  it('adds the leading search command only when the text needs one', async () => {
    splunk.searches.set('| tstats count from datamodel=Certificates', []);
    await splunkExport(http(), request({ search: '| tstats count from datamodel=Certificates' }));
    await splunkExport(http(), request({ search: SEARCH.replace(/^search /, '') }));
    expect(splunk.exports.map((e) => e.form.get('search'))).toEqual(['| tstats count from datamodel=Certificates', SEARCH]);
  });

  it('waits what Retry-After asks on 503 and then reads the answer', async () => {
    splunk.faults.push({ kind: 'throttle', retryAfterSeconds: 1 });
    const started = Date.now();
    const rows = await splunkExport(http(), request());
    expect(rows).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(splunk.exports.map((e) => e.status)).toEqual([503, 200]);
  });

  it('never uses part of a stream that broke before its last row', async () => {
    splunk.faults.push({ kind: 'truncate', afterRows: 1 });
    await expect(splunkExport(http(), request())).rejects.toBeInstanceOf(PartialResultError);
  });

  it('rejects a search the service does not know, and a job that reports an error, as a rejected query', async () => {
    await expect(splunkExport(http(), request({ search: 'search index=main something else' }))).rejects.toBeInstanceOf(QueryRejectedError);
    splunk.faults.push({ kind: 'job-error', text: "Error in 'rex' command" });
    await expect(splunkExport(http(), request())).rejects.toThrow(/rex/);
  });

  it('names SPLUNK_TOKEN when the token is refused, without retrying', async () => {
    splunk.faults.push({ kind: 'unauthorized' });
    const err = await splunkExport(http(), request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]?.path).toBe('SPLUNK_TOKEN');
    expect(splunk.exports).toHaveLength(1);
  });

  it('gives up at its deadline on a search that never completes', async () => {
    splunk.faults.push({ kind: 'hang' });
    await expect(splunkExport(http(), request({ deadlineMs: 500 }))).rejects.toBeInstanceOf(QueryTimeoutError);
  });

  it('reports an answer over the row limit as too large, so the engine splits the slice', async () => {
    await expect(splunkExport(http(), request({ maxRows: 1 }))).rejects.toBeInstanceOf(ResultTooLargeError);
  });
});
