import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError, UpstreamUnavailableError } from '../../../shared/errors.js';
import {
  PartialResultError,
  QueryRejectedError,
  QueryTimeoutError,
  createLogsQueryClient,
  queryPrimaryTable,
  scopeForEndpoint,
} from '../../../shared/hunting/log-analytics.js';
import { rowsFromTable } from '../../../shared/hunting/rows.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../../helpers/log-analytics-server.js';
import { TEST_SCHEMA, testEvents, fakeCredential, testDetection } from './test-detection.js';

const WORKSPACE = '11111111-2222-3333-4444-555555555555';
let server: LogAnalyticsServer;

beforeAll(async () => {
  server = await startLogAnalyticsServer({ schemas: [TEST_SCHEMA] });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.tables = { TestEvents: [] };
  server.evaluationErrors = [];
  server.faults = [];
  server.requests = [];
  server.rowLimit = 500_000;
  server.now = () => new Date('2026-01-01T12:00:00Z');
});

const window = { start: new Date('2026-01-01T10:00:00Z'), end: new Date('2026-01-01T11:00:00Z') };

function request(overrides: Partial<Parameters<typeof queryPrimaryTable>[1]> = {}) {
  return {
    workspaceId: WORKSPACE,
    query: testDetection.buildQuery({ lookback: '1d' }, window),
    window,
    timespan: { startTime: new Date('2025-12-30T00:00:00Z'), endTime: new Date('2026-01-02T00:00:00Z') },
    serverTimeoutInSeconds: 60,
    deadlineMs: 20_000,
    ...overrides,
  };
}

function add(id: number, ingested: string, generated = ingested) {
  testEvents(server).push({ row: { TimeGenerated: generated, EventId: id, Host: `h${id}`, Extra: { n: id } }, ingestedAt: new Date(ingested) });
}

function client(retry = { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 }) {
  const credential = fakeCredential();
  return { credential, logs: createLogsQueryClient(credential, { endpoint: server.endpoint, retry }) };
}

describe('queryPrimaryTable through the real LogsQueryClient', () => {
  it('returns the rows ingested in the window, typed, with the token and the server timeout sent', async () => {
    add(1, '2026-01-01T09:59:59.999Z'); // before the window
    add(2, '2026-01-01T10:00:00.000Z'); // first instant of the window
    add(3, '2026-01-01T10:30:00.000Z', '2026-01-01T10:10:00.000Z'); // arrived 20 minutes late
    add(4, '2026-01-01T11:00:00.000Z'); // window end is exclusive
    const { logs, credential } = client();
    const answer = await queryPrimaryTable(logs, request());
    const rows = rowsFromTable(answer.table, testDetection);
    expect(rows.map((r) => r.EventId)).toEqual([2, 3]);
    expect(rows[1]).toEqual({ TimeGenerated: '2026-01-01T10:10:00.000Z', EventId: 3, Host: 'h3', Extra: { n: 3 } });
    expect(server.requests[0]?.authorization).toBe('Bearer fake-token');
    expect(server.requests[0]?.prefer).toBe('wait=60');
    expect(server.requests[0]?.timespan).toBe('2025-12-30T00:00:00.000Z/2026-01-02T00:00:00.000Z');
    expect(credential.calls[0]).toEqual(['https://api.loganalytics.io/.default']);
  });

  it('a partial error (200 with an error object) is never taken as a complete answer', async () => {
    add(1, '2026-01-01T10:10:00Z');
    add(2, '2026-01-01T10:20:00Z');
    server.faults.push({ kind: 'partial-error' });
    const { logs } = client();
    await expect(queryPrimaryTable(logs, request())).rejects.toThrow(PartialResultError);
    await expect(queryPrimaryTable(logs, request())).resolves.toMatchObject({ table: { rows: [[expect.any(Date), 1, 'h1', { n: 1 }], [expect.any(Date), 2, 'h2', { n: 2 }]] } });
  });

  it('an answer cut at the row limit is reported as too large', async () => {
    for (let i = 0; i < 5; i++) add(i, `2026-01-01T10:1${i}:00Z`);
    server.rowLimit = 3;
    const { logs } = client();
    const err = await queryPrimaryTable(logs, request()).catch((e: unknown) => e);
    // LogsQueryClient drops details[].innererror, where the service names E_QUERY_RESULT_SET_TOO_LARGE,
    // so a cut answer reaches us as a partial result (which the hunt splits, like a too-large one).
    expect(err).toBeInstanceOf(PartialResultError);
    expect((err as Error).message).toContain('PartialError');
    expect(server.requests.at(-1)?.rows).toBe(3);
  });

  it('400 → QueryRejectedError with the service code and the inner message', async () => {
    server.faults.push({ kind: 'bad-request' });
    const { logs } = client();
    const err = (await queryPrimaryTable(logs, request()).catch((e: unknown) => e)) as QueryRejectedError;
    expect(err).toBeInstanceOf(QueryRejectedError);
    expect(err.code).toBe('BadArgumentError');
    expect(err.message).toContain("Failed to resolve column or scalar expression named 'NoSuchColumn'");
    expect(server.requests).toHaveLength(1); // not retried
  });

  it('executes the query it receives: a query the language service rejects is a 400 naming the problem, not rows', async () => {
    add(1, '2026-01-01T10:10:00Z');
    const { logs } = client();
    const err = (await queryPrimaryTable(logs, request({ query: 'TestEvents | where NoSuchColumn == 1' })).catch((e: unknown) => e)) as QueryRejectedError;
    expect(err).toBeInstanceOf(QueryRejectedError);
    expect(err.message).toContain('NoSuchColumn');
    expect(server.evaluationErrors).toHaveLength(1);
    // The same rows, asked for by a query that filters them out, come back empty: the text is run.
    const none = await queryPrimaryTable(logs, request({ query: `${testDetection.buildQuery({ lookback: '1d' }, window)}\n| where Host == "nobody"` }));
    expect(none.table.rows).toHaveLength(0);
    const one = await queryPrimaryTable(logs, request());
    expect(one.table.rows).toHaveLength(1);
  });

  it('429 with Retry-After is waited out and retried by the SDK', async () => {
    add(1, '2026-01-01T10:10:00Z');
    server.faults.push({ kind: 'throttle', retryAfterSeconds: 1 });
    const { logs } = client();
    const started = Date.now();
    const answer = await queryPrimaryTable(logs, request());
    expect(answer.table.rows).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('throttling that outlasts the retries → RateLimitedError with the server’s Retry-After', async () => {
    for (let i = 0; i < 3; i++) server.faults.push({ kind: 'throttle', retryAfterSeconds: 0 });
    const { logs } = client();
    const err = (await queryPrimaryTable(logs, request()).catch((e: unknown) => e)) as RateLimitedError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBe(0);
    expect(server.requests).toHaveLength(3);
  });

  it('5xx and dropped connections are retried with backoff; persistent 5xx → UpstreamUnavailableError', async () => {
    add(1, '2026-01-01T10:10:00Z');
    server.faults.push({ kind: 'server-error', status: 502 }, { kind: 'reset' });
    const { logs } = client();
    await expect(queryPrimaryTable(logs, request())).resolves.toMatchObject({ table: { rows: [expect.any(Array)] } });
    expect(server.requests.map((r) => r.status)).toEqual([502, 0, 200]);

    server.faults.push({ kind: 'server-error', status: 500 }, { kind: 'server-error', status: 503 }, { kind: 'server-error', status: 500 });
    const err = (await queryPrimaryTable(logs, request()).catch((e: unknown) => e)) as UpstreamUnavailableError;
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect(err.status).toBe(500);
  });

  it('504 that persists → QueryTimeoutError (the caller splits the window)', async () => {
    for (let i = 0; i < 3; i++) server.faults.push({ kind: 'gateway-timeout' });
    const { logs } = client();
    await expect(queryPrimaryTable(logs, request())).rejects.toThrow(QueryTimeoutError);
    expect(server.requests.map((r) => r.status)).toEqual([504, 504, 504]);
  });

  it('our deadline bounds a query with its retries', async () => {
    for (let i = 0; i < 3; i++) server.faults.push({ kind: 'throttle', retryAfterSeconds: 5 });
    const { logs } = client();
    const started = Date.now();
    await expect(queryPrimaryTable(logs, request({ deadlineMs: 300 }))).rejects.toThrow(QueryTimeoutError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('asks for a token for the sovereign cloud it talks to', () => {
    expect(scopeForEndpoint('https://api.loganalytics.us/v1')).toBe('https://api.loganalytics.us/.default');
    expect(scopeForEndpoint('https://api.loganalytics.io/v1')).toBe('https://api.loganalytics.io/.default');
    expect(scopeForEndpoint('https://localhost:1234/v1')).toBe('https://api.loganalytics.io/.default');
  });
});

describe('rowsFromTable', () => {
  it('names the detection and the missing columns when the answer does not fit the query', () => {
    expect(() =>
      rowsFromTable({ name: 'PrimaryResult', columnDescriptors: [{ name: 'TimeGenerated', type: 'datetime' }], rows: [] }, testDetection),
    ).toThrow(/TEST\.001.*EventId/);
  });

  it('checks each cell against its column type, naming the row and the column', () => {
    const table = { name: 'PrimaryResult', columnDescriptors: TEST_SCHEMA.columns as never, rows: [[new Date(0), 1, 'h', null], [new Date(0), 'two', 'h', null]] as never };
    expect(() => rowsFromTable(table, testDetection)).toThrow(/row 1 of the answer: row\.EventId/);
  });

  it('turns datetime cells back into ISO text and releases the SDK rows as it goes', () => {
    const table = { name: 'PrimaryResult', columnDescriptors: TEST_SCHEMA.columns as never, rows: [[new Date('2026-01-01T00:00:00Z'), 1, 'h', { a: [1] }]] };
    expect(rowsFromTable(table, testDetection)).toEqual([{ TimeGenerated: '2026-01-01T00:00:00.000Z', EventId: 1, Host: 'h', Extra: { a: [1] } }]);
    expect(table.rows[0]).toBeUndefined();
  });
});
