import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackTls } from './loopback-tls.js';

/**
 * A local HTTPS server that plays the Log Analytics query API (POST /v1/workspaces/{id}/query)
 * with the service's response shapes, so the real LogsQueryClient can be pointed at it
 * (endpoint option / LOG_ANALYTICS_ENDPOINT = server.endpoint).
 *
 * It keeps one table of records; each record has the projected row plus the time it was ingested
 * (ingestion_time()) and the time it became queryable (visibleAt, default = ingestedAt), so late
 * arrivals and ingestion lag can be played. A query's window is read from the KQL: the
 * `ingestion_time() >= datetime(…) and ingestion_time() < datetime(…)` bounds and the
 * `TimeGenerated >= datetime(…)` guard, plus the request's timespan (on TimeGenerated), as the
 * service applies it. The query text is otherwise not evaluated: records are the rows the query
 * would project. One operator is played: a query ending in
 * `| summarize Rows = count() by Bin = bin(ingestion_time(), <timespan>)` (the hunt's row count)
 * answers the selected records counted per bin (columns Bin datetime, Rows long); such count
 * queries are logged in `counts`, not `requests`, and take no fault (faults play on row queries).
 *
 * Shapes (learn.microsoft.com "Azure Monitor Log Analytics API response format" and "errors"):
 * - 200 {tables:[{name:'PrimaryResult', columns:[{name,type}], rows:[[…]]}]}; datetime cells as
 *   ISO text, dynamic cells as JSON text;
 * - a non-fatal error: 200 with the tables AND an "error" object (code PartialError, details with
 *   an innererror from the engine); results over 500,000 rows / 64 MB come back this way, cut,
 *   with E_QUERY_RESULT_SET_TOO_LARGE in the innererror;
 * - fatal errors: a status with {error:{code, message, correlationId, innererror…}}: 400
 *   BadArgumentError, 429 with Retry-After, 500/502/503, 504 GatewayTimeout.
 */

export type LaColumnType = 'string' | 'datetime' | 'int' | 'long' | 'real' | 'bool' | 'dynamic' | 'guid' | 'timespan' | 'decimal';

export interface LaColumn {
  name: string;
  type: LaColumnType;
}

export interface LaRecord {
  row: Record<string, unknown>;
  ingestedAt: Date;
  /** When the row becomes queryable (ingestion lag); default ingestedAt. */
  visibleAt?: Date;
}

export type LaFault =
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'gateway-timeout' }
  | { kind: 'server-error'; status: 500 | 502 | 503 }
  | { kind: 'partial-error' }
  | { kind: 'bad-request'; message?: string }
  | { kind: 'truncate' }
  | { kind: 'reset' };

export interface LaRequest {
  workspaceId: string;
  query: string;
  timespan?: string;
  prefer?: string;
  authorization?: string;
  window?: { start: Date; end: Date };
  status: number;
  fault?: LaFault['kind'];
  rows: number;
}

export interface LogAnalyticsServer {
  /** Base URL including /v1, as LOG_ANALYTICS_ENDPOINT takes it. */
  endpoint: string;
  columns: LaColumn[];
  records: LaRecord[];
  /** The service's caps; a matching set over either is cut and reported as a partial error. */
  rowLimit: number;
  byteLimit: number;
  /** The server's clock: records with visibleAt after it are not returned. */
  now: () => Date;
  /** Faults to play, one per request, first in first out (before faultFor is asked). */
  faults: LaFault[];
  faultFor?: (request: { query: string; window?: { start: Date; end: Date } }) => LaFault | undefined;
  /** When set, every successful query answers this body as it is (benchmarks). */
  fixedBody?: Buffer;
  requests: LaRequest[];
  /** Row-count queries (summarize … by bin(ingestion_time(), …)), apart from the row queries. */
  counts: LaRequest[];
  close(): Promise<void>;
}

export interface LogAnalyticsServerOptions {
  columns?: LaColumn[];
  tls?: { cert: string; key: string };
}

const INGESTION_WINDOW = /ingestion_time\(\)\s*>=\s*datetime\(([^)]+)\)\s*and\s*ingestion_time\(\)\s*<\s*datetime\(([^)]+)\)/;
const TIME_GUARD = /\|\s*where\s+TimeGenerated\s*>=\s*datetime\(([^)]+)\)/;
const ROUTE = /^\/v1\/workspaces\/([^/]+)\/query$/;
const COUNT_BY_BIN = /\|\s*summarize\s+Rows\s*=\s*count\(\)\s+by\s+Bin\s*=\s*bin\(ingestion_time\(\),\s*(\d+)(d|h|m|s|ms)\)\s*$/;
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

export async function startLogAnalyticsServer(options: LogAnalyticsServerOptions = {}): Promise<LogAnalyticsServer> {
  const tls = options.tls ?? loopbackTls();
  const state: Omit<LogAnalyticsServer, 'endpoint' | 'close'> = {
    columns: options.columns ?? [],
    records: [],
    rowLimit: 500_000,
    byteLimit: 64_000_000,
    now: () => new Date(),
    faults: [],
    requests: [],
    counts: [],
  };
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, oneApiError('InternalServerError', String(err)));
    });
  });
  // Node closes an idle kept-alive socket after 5 s, which races a client that takes longer than
  // that between two queries (a large answer being worked through) into ECONNRESET.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const result = state as LogAnalyticsServer;
  result.endpoint = `https://localhost:${port}/v1`;
  result.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return result;
}

async function handle(state: Omit<LogAnalyticsServer, 'endpoint' | 'close'>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = ROUTE.exec(new URL(req.url ?? '/', 'https://x').pathname);
  if (req.method !== 'POST' || !route) return send(res, 404, oneApiError('PathNotFoundError', `The requested path does not exist: ${req.url}`));
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query?: string; timespan?: string };
  const query = body.query ?? '';
  const w = INGESTION_WINDOW.exec(query);
  const window = w ? { start: new Date(w[1] as string), end: new Date(w[2] as string) } : undefined;
  const log: LaRequest = {
    workspaceId: decodeURIComponent(route[1] as string),
    query,
    ...(body.timespan ? { timespan: body.timespan } : {}),
    ...(typeof req.headers.prefer === 'string' ? { prefer: req.headers.prefer } : {}),
    ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    ...(window ? { window } : {}),
    status: 200,
    rows: 0,
  };
  const countBin = COUNT_BY_BIN.exec(query);
  (countBin ? state.counts : state.requests).push(log);
  if (!req.headers.authorization?.startsWith('Bearer ')) {
    log.status = 401;
    return send(res, 401, oneApiError('AuthorizationRequiredError', 'Valid authentication was not provided'));
  }
  if (countBin) return answerCount(log, res, select(state, query, window, body.timespan), Number(countBin[1]) * (UNIT_MS[countBin[2] as string] as number));
  const fault = state.faults.shift() ?? state.faultFor?.({ query, ...(window ? { window } : {}) });
  if (fault) log.fault = fault.kind;
  switch (fault?.kind) {
    case 'reset':
      log.status = 0;
      req.socket.destroy();
      return;
    case 'throttle':
      log.status = 429;
      return send(res, 429, oneApiError('ThrottledError', 'Your request was throttled. Please retry after the time the Retry-After header says.'), {
        'retry-after': String(fault.retryAfterSeconds),
      });
    case 'gateway-timeout':
      log.status = 504;
      return send(res, 504, oneApiError('GatewayTimeout', 'The gateway did not receive a response in time (the query ran longer than the server timeout).'));
    case 'server-error':
      log.status = fault.status;
      return send(res, fault.status, oneApiError(fault.status === 503 ? 'ServiceUnavailable' : fault.status === 502 ? 'BadGateway' : 'InternalServerError', 'An internal error occurred.'));
    case 'bad-request':
      log.status = 400;
      return send(res, 400, {
        error: {
          message: 'The request had some invalid properties',
          code: 'BadArgumentError',
          correlationId: randomUUID(),
          innererror: {
            code: 'SemanticError',
            message: 'A semantic error occurred.',
            innererror: { code: 'SEM0100', message: fault.message ?? "'where' operator: Failed to resolve column or scalar expression named 'NoSuchColumn'" },
          },
        },
      });
    default:
      break;
  }

  if (state.fixedBody) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': state.fixedBody.length });
    res.end(state.fixedBody);
    return;
  }

  const matching = select(state, query, window, body.timespan);
  const rows = matching.map((r) => state.columns.map((c) => serialiseCell(r.row[c.name], c.type)));
  let served = rows;
  let error: unknown;
  const tooManyRows = rows.length > state.rowLimit || fault?.kind === 'truncate';
  if (tooManyRows) {
    served = rows.slice(0, fault?.kind === 'truncate' ? Math.floor(rows.length / 2) : state.rowLimit);
    error = engineError('-2133196797', `Query result set has exceeded the internal record count limit ${state.rowLimit} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`);
  } else if (fault?.kind === 'partial-error') {
    served = rows.slice(0, Math.floor(rows.length / 2));
    error = engineError('-2133196800', 'Partial query failure: Failed to load a data shard (E_EXTENT_LOAD_FAILED)');
  } else {
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      bytes += JSON.stringify(rows[i]).length;
      if (bytes > state.byteLimit) {
        served = rows.slice(0, i);
        error = engineError('-2133196797', `Query result set has exceeded the internal data size limit ${state.byteLimit} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`);
        break;
      }
    }
  }
  log.rows = served.length;
  const answer: Record<string, unknown> = { tables: [{ name: 'PrimaryResult', columns: state.columns, rows: served }] };
  if (error) answer.error = error;
  send(res, 200, answer);
}

/** The selected records counted per bin of ingestion time (what summarize count() by bin() answers). */
function answerCount(log: LaRequest, res: ServerResponse, matching: LaRecord[], binMs: number): void {
  const perBin = new Map<number, number>();
  for (const r of matching) {
    const bin = Math.floor(r.ingestedAt.getTime() / binMs) * binMs;
    perBin.set(bin, (perBin.get(bin) ?? 0) + 1);
  }
  const rows = [...perBin].map(([bin, n]) => [new Date(bin).toISOString(), n]);
  log.rows = rows.length;
  send(res, 200, { tables: [{ name: 'PrimaryResult', columns: [{ name: 'Bin', type: 'datetime' }, { name: 'Rows', type: 'long' }], rows }] });
}

/** A record's TimeGenerated in ms, parsed once per record (benchmarks select from 500,000 records per query). */
const generatedCache = new WeakMap<LaRecord, { text: unknown; ms: number | undefined }>();
function generatedMs(r: LaRecord): number | undefined {
  const text = r.row.TimeGenerated;
  const cached = generatedCache.get(r);
  if (cached && cached.text === text) return cached.ms;
  const ms = text === undefined ? undefined : new Date(String(text)).getTime();
  generatedCache.set(r, { text, ms });
  return ms;
}

function select(state: Omit<LogAnalyticsServer, 'endpoint' | 'close'>, query: string, window: { start: Date; end: Date } | undefined, timespan: string | undefined): LaRecord[] {
  const now = state.now().getTime();
  const g = TIME_GUARD.exec(query);
  const guard = g ? new Date(g[1] as string).getTime() : undefined;
  const [tsStart, tsEnd] = (timespan ?? '').split('/').map((t) => (t && !t.startsWith('P') ? new Date(t).getTime() : undefined));
  return state.records.filter((r) => {
    if ((r.visibleAt ?? r.ingestedAt).getTime() > now) return false;
    const ingested = r.ingestedAt.getTime();
    if (window && !(ingested >= window.start.getTime() && ingested < window.end.getTime())) return false;
    const generated = generatedMs(r);
    if (generated !== undefined) {
      if (guard !== undefined && generated < guard) return false;
      if (tsStart !== undefined && generated < tsStart) return false;
      if (tsEnd !== undefined && generated > tsEnd) return false;
    }
    return true;
  });
}

function serialiseCell(value: unknown, type: LaColumnType): unknown {
  if (value === undefined || value === null) return null;
  if (type === 'datetime') return value instanceof Date ? value.toISOString() : String(value);
  if (type === 'dynamic') return typeof value === 'string' ? value : JSON.stringify(value);
  return value;
}

function engineError(code: string, message: string): unknown {
  return {
    message: 'There were some errors when processing your query.',
    code: 'PartialError',
    correlationId: randomUUID(),
    details: [{ code: 'EngineError', message: 'Something went wrong processing your query on the server.', innererror: { code, message, severity: 2, severityName: 'Error' } }],
  };
}

function oneApiError(code: string, message: string): unknown {
  return { error: { message, code, correlationId: randomUUID() } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
