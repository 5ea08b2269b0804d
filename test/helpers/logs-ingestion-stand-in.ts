import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { loopbackTls } from './loopback-tls.js';

/**
 * A loopback HTTPS server playing the Azure Monitor Logs Ingestion API as documented ("Logs
 * Ingestion API in Azure Monitor", REST "Logs Ingestion - Upload"):
 *   POST /dataCollectionRules/{immutable id}/streams/{stream}?api-version=2023-01-01
 *   Authorization: Bearer …, Content-Type: application/json, Content-Encoding: gzip (optional)
 *   body: a JSON array of rows; at most 1 MB per call (413 above); 204 on success;
 *   429 with Retry-After when throttled; 5xx on service errors.
 * It records every accepted row and every call (decompressed size, encoding), and plays faults
 * queued in `faults`, one per call, before the call is accepted: a faulted call stores nothing.
 */

export type IngestionFault = { kind: 'throttle'; retryAfterSeconds: number } | { kind: 'server-error'; status: 500 | 502 | 503 } | { kind: 'reject'; status: 400 };

export interface IngestionCall {
  path: string;
  status: number;
  gzip: boolean;
  bytes: number;
  rows: number;
  authorization?: string;
}

export interface LogsIngestionStandIn {
  endpoint: string;
  faults: IngestionFault[];
  /** Fault every call whose rows include this FindingId (a persistent failure of one batch). */
  failFindingId?: string;
  accepted: Array<Record<string, unknown>>;
  calls: IngestionCall[];
  close(): Promise<void>;
}

const MAX_BODY = 1_048_576;

export async function startLogsIngestionStandIn(expected: { ruleId: string; stream: string }): Promise<LogsIngestionStandIn> {
  const state: LogsIngestionStandIn = { endpoint: '', faults: [], accepted: [], calls: [], close: async () => {} };
  const server: Server = createServer(loopbackTls(), (req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const gzip = req.headers['content-encoding'] === 'gzip';
    const body = gzip ? gunzipSync(raw) : raw;
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const answer = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      state.calls.push({ path: url.pathname, status, gzip, bytes: body.length, rows: rowsOf(body), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const path = `/dataCollectionRules/${expected.ruleId}/streams/${expected.stream}`;
    if (req.method !== 'POST' || url.pathname !== path || !url.searchParams.get('api-version')) return answer(404, { error: { code: 'NotFound', message: url.pathname } });
    if (!req.headers.authorization?.startsWith('Bearer ')) return answer(401, { error: { code: 'InvalidToken', message: 'no bearer token' } });
    if (body.length > MAX_BODY) return answer(413, { error: { code: 'ContentLengthLimitExceeded', message: `${body.length} bytes` } });
    const fault = state.faults.shift();
    if (fault?.kind === 'throttle') return answer(429, { error: { code: 'TooManyRequests', message: 'throttled' } }, { 'retry-after': String(fault.retryAfterSeconds) });
    if (fault) return answer(fault.status, { error: { code: 'ServiceError', message: 'fault' } });
    let rows: Array<Record<string, unknown>>;
    try {
      rows = JSON.parse(body.toString('utf8')) as Array<Record<string, unknown>>;
      if (!Array.isArray(rows)) throw new Error('not an array');
    } catch (err) {
      return answer(400, { error: { code: 'InvalidContent', message: (err as Error).message } });
    }
    if (state.failFindingId && rows.some((r) => r['FindingId'] === state.failFindingId)) return answer(503, { error: { code: 'ServiceUnavailable', message: 'fault' } });
    state.accepted.push(...rows);
    answer(204);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

function rowsOf(body: Buffer): number {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}
