import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { AxiosInstance } from 'axios';
import type { QueryWindow } from '../detections/types.js';
import type { Row } from '../model.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError } from '../hunting/log-analytics.js';
import { commonFailure, withSiemRetries } from './siem-http.js';

/**
 * One search through Splunk's REST export endpoint, `POST /services/search/jobs/export`
 * (Splunk REST API Reference, "search/jobs/export"): the results stream back as JSON lines while
 * the search runs, so nothing waits for a job and nothing is held server-side.
 *
 * Window: the hunt slices by arrival, as it does with ingestion_time() in Log Analytics, so the
 * slice goes in `index_earliest`/`index_latest` (index time) and `earliest_time` is a guard at
 * slice start − lookback on event time that lets Splunk skip old buckets.
 *
 * Outcomes, the same typed errors the Log Analytics path throws so one hunt engine handles all:
 * 400 or a FATAL/ERROR message → QueryRejectedError; a stream that ends before its last row
 * (`lastrow`) or breaks mid-line → PartialResultError (never use part of an answer); more rows
 * than `maxRows` → ResultTooLargeError (the engine splits the slice); our deadline →
 * QueryTimeoutError; 401/403 → ConfigError naming SPLUNK_TOKEN; 429/503/5xx retried within the
 * deadline, honouring Retry-After.
 */

export interface SplunkSearchRequest {
  /** SPL as exported; a leading `search` is added when it starts with neither `search` nor `|`. */
  search: string;
  window: QueryWindow;
  /** How far before the slice an event's own time may lie (the detection's lookback). */
  lookbackMs: number;
  deadlineMs: number;
  maxRows: number;
}

/** One JSON line of the export stream (output_mode=json). */
interface ExportLine {
  preview?: boolean;
  offset?: number;
  lastrow?: boolean;
  result?: Record<string, unknown>;
  messages?: Array<{ type?: string; text?: string }>;
}

const epochSeconds = (d: Date) => (d.getTime() / 1000).toFixed(3);

export function exportForm(request: SplunkSearchRequest): URLSearchParams {
  const text = request.search.trim();
  const search = /^(search\b|\|)/i.test(text) ? text : `search ${text}`;
  return new URLSearchParams({
    search,
    output_mode: 'json',
    earliest_time: epochSeconds(new Date(request.window.start.getTime() - request.lookbackMs)),
    latest_time: epochSeconds(request.window.end),
    index_earliest: epochSeconds(request.window.start),
    index_latest: epochSeconds(request.window.end),
  });
}

export async function splunkExport(http: AxiosInstance, request: SplunkSearchRequest): Promise<Row[]> {
  const deadline = Date.now() + request.deadlineMs;
  return withSiemRetries(deadline, async () => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new QueryTimeoutError('no complete answer from Splunk within the deadline');
    let response;
    try {
      response = await http.post('/services/search/jobs/export', exportForm(request), {
        responseType: 'stream',
        signal: AbortSignal.timeout(remaining),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    } catch (err) {
      throw transportFailure(err);
    }
    const stream = response.data as Readable;
    if (response.status !== 200) {
      const body = await readSmall(stream);
      const detail = messagesOf(body) || `HTTP ${response.status}`;
      throw commonFailure('Splunk', 'SPLUNK_TOKEN', response, detail) ?? new QueryRejectedError(`HTTP ${response.status}`, detail);
    }
    return readExportStream(stream, request.maxRows);
  });
}

function transportFailure(err: unknown): Error {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'AbortError' || e?.name === 'CanceledError' || e?.code === 'ECONNABORTED' || e?.code === 'ERR_CANCELED') {
    return new QueryTimeoutError('no answer from Splunk within the deadline');
  }
  return new PartialResultError(`Splunk connection failed: ${e?.code ?? e?.message ?? String(err)}`);
}

/** Reads the stream line by line, keeping result rows; fails on any sign of an incomplete answer. */
async function readExportStream(stream: Readable, maxRows: number): Promise<Row[]> {
  const rows: Row[] = [];
  let sawLastRow = false;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      let parsed: ExportLine;
      try {
        parsed = JSON.parse(line) as ExportLine;
      } catch {
        throw new PartialResultError(`Splunk export stream broke mid-line after ${rows.length} rows`);
      }
      const failure = (parsed.messages ?? []).find((m) => m.type === 'FATAL' || m.type === 'ERROR');
      if (failure) throw new QueryRejectedError(`Splunk ${failure.type}`, failure.text ?? 'no text');
      if (parsed.preview) continue;
      if (parsed.result) {
        rows.push(parsed.result);
        if (rows.length > maxRows) throw new ResultTooLargeError(`more than ${maxRows} rows in one slice`);
      }
      if (parsed.lastrow) sawLastRow = true;
    }
  } catch (err) {
    if (err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ERR_CANCELED')) {
      throw new QueryTimeoutError(`Splunk export still streaming at the deadline after ${rows.length} rows`);
    }
    if (err instanceof Error && /aborted|ECONNRESET|socket hang up/i.test(err.message)) {
      throw new PartialResultError(`Splunk export stream cut after ${rows.length} rows: ${err.message}`);
    }
    throw err;
  } finally {
    stream.destroy();
  }
  if (rows.length > 0 && !sawLastRow) throw new PartialResultError(`Splunk export stream ended after ${rows.length} rows without its last row`);
  return rows;
}

async function readSmall(stream: Readable, limit = 65_536): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > limit) break;
  }
  stream.destroy();
  return text.slice(0, limit);
}

/** The text of Splunk's `{"messages":[{type,text}]}` error bodies. */
export function messagesOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as ExportLine;
    return (parsed.messages ?? []).map((m) => `${m.type ?? ''} ${m.text ?? ''}`.trim()).join('; ');
  } catch {
    return '';
  }
}
