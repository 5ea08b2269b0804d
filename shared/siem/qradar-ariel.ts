import type { AxiosInstance, AxiosResponse } from 'axios';
import type { Row } from '../model.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError } from '../hunting/log-analytics.js';
import { commonFailure, withSiemRetries } from './siem-http.js';

/**
 * One AQL search through QRadar's Ariel API (IBM QRadar REST API 12.0, "POST /ariel/searches",
 * "GET /ariel/searches/{search_id}", "GET /ariel/searches/{search_id}/results"): create the
 * search, wait for it (Prefer: wait=N, answered 206 while it runs), read its results page by page
 * with `Range: items=a-b`, then delete it so it does not hold Ariel space.
 *
 * Outcomes, the same typed errors as the other hunt sources: 422 (code 2000, invalid AQL) →
 * QueryRejectedError; status ERROR or CANCELED → PartialResultError; still WAIT/EXECUTE/SORTING at
 * the deadline → QueryTimeoutError; record_count above `maxRows` → ResultTooLargeError (split);
 * a page shorter than asked before record_count is reached → PartialResultError; 401/403 →
 * ConfigError naming QRADAR_TOKEN; 503 (code 1010) and 5xx retried within the deadline.
 */

export interface ArielRequest {
  /** AQL including its own START/STOP window. */
  aql: string;
  deadlineMs: number;
  maxRows: number;
  /** Records per results request. */
  pageSize: number;
  /** Seconds each status request may wait server-side (Prefer: wait=N). */
  waitSeconds: number;
  /** Least time between two status requests, for consoles that answer before the wait ends. */
  pollIntervalMs: number;
}

interface ArielSearch {
  search_id: string;
  status: 'WAIT' | 'EXECUTE' | 'SORTING' | 'COMPLETED' | 'CANCELED' | 'ERROR';
  record_count?: number;
  error_messages?: Array<{ code?: string; message?: string; severity?: string }>;
}

/** QRadar's error body: {http_response:{code,message}, code, message, description}. */
function errorDetail(response: AxiosResponse): string {
  const b = response.data as { code?: number; message?: string; description?: string } | undefined;
  if (b && typeof b === 'object') return [b.code, b.message, b.description].filter((x) => x !== undefined && x !== '').join(': ');
  return `HTTP ${response.status}`;
}

function fail(response: AxiosResponse): Error {
  const detail = errorDetail(response);
  const common = commonFailure('QRadar', 'QRADAR_TOKEN', response, detail);
  if (common) return common;
  if (response.status === 422) return new QueryRejectedError('QRadar 422', detail);
  return new PartialResultError(`QRadar answered HTTP ${response.status}: ${detail}`);
}

export async function arielSearch(http: AxiosInstance, request: ArielRequest): Promise<Row[]> {
  const deadline = Date.now() + request.deadlineMs;
  const search = await withSiemRetries(deadline, async () => {
    const r = await http.post('/api/ariel/searches', null, { params: { query_expression: request.aql } });
    if (r.status !== 201 && r.status !== 200) throw fail(r);
    return r.data as ArielSearch;
  });
  try {
    const done = await waitForCompletion(http, search, deadline, request);
    const total = done.record_count ?? 0;
    if (total > request.maxRows) throw new ResultTooLargeError(`${total} records in one slice (limit ${request.maxRows})`);
    return await readResults(http, done.search_id, total, request.pageSize, deadline);
  } finally {
    // Best effort: an undeleted search only costs Ariel space until its retention ends.
    await http.delete(`/api/ariel/searches/${encodeURIComponent(search.search_id)}`).catch(() => undefined);
  }
}

async function waitForCompletion(http: AxiosInstance, search: ArielSearch, deadline: number, pacing: Pick<ArielRequest, 'waitSeconds' | 'pollIntervalMs'>): Promise<ArielSearch> {
  let current = search;
  let lastPoll = 0;
  while (current.status !== 'COMPLETED') {
    if (current.status === 'ERROR' || current.status === 'CANCELED') {
      const why = (current.error_messages ?? []).map((m) => m.message).filter(Boolean).join('; ') || current.status;
      throw new PartialResultError(`Ariel search ${current.search_id} ended ${current.status}: ${why}`);
    }
    const left = Math.floor((deadline - Date.now()) / 1000);
    if (left <= 0) throw new QueryTimeoutError(`Ariel search ${current.search_id} still ${current.status} at the deadline`);
    const pause = lastPoll + pacing.pollIntervalMs - Date.now();
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline - Date.now())));
    lastPoll = Date.now();
    current = await withSiemRetries(deadline, async () => {
      const r = await http.get(`/api/ariel/searches/${encodeURIComponent(current.search_id)}`, {
        headers: { Prefer: `wait=${Math.max(1, Math.min(pacing.waitSeconds, left))}` },
      });
      if (r.status !== 200 && r.status !== 206) throw fail(r);
      return r.data as ArielSearch;
    });
  }
  return current;
}

async function readResults(http: AxiosInstance, searchId: string, total: number, pageSize: number, deadline: number): Promise<Row[]> {
  const rows: Row[] = [];
  while (rows.length < total) {
    if (Date.now() >= deadline) throw new QueryTimeoutError(`read ${rows.length} of ${total} Ariel records by the deadline`);
    const from = rows.length;
    const to = Math.min(total, from + pageSize) - 1;
    const page = await withSiemRetries(deadline, async () => {
      const r = await http.get(`/api/ariel/searches/${encodeURIComponent(searchId)}/results`, { headers: { Range: `items=${from}-${to}` } });
      if (r.status !== 200 && r.status !== 206) throw fail(r);
      const body = r.data as { events?: Row[]; flows?: Row[] };
      return body.events ?? body.flows ?? [];
    });
    if (page.length !== to - from + 1) throw new PartialResultError(`Ariel results page ${from}-${to} held ${page.length} records`);
    rows.push(...page);
  }
  return rows;
}

