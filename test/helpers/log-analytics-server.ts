import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { executeKql, type KqlResult } from '../../devtools/kusto/execute.js';
import { KqlDateTime, KqlTimespan, toKqlString } from '../../devtools/kusto/values.js';
import { loadSchemas, type TableSchema } from '../../shared/detections/kql-validator.js';
import { loopbackTls } from './loopback-tls.js';

/**
 * A local HTTPS server that plays the Log Analytics query API (POST /v1/workspaces/{id}/query)
 * with the service's response shapes, so the real LogsQueryClient can be pointed at it
 * (endpoint option / LOG_ANALYTICS_ENDPOINT = server.endpoint).
 *
 * It holds TABLES of raw rows (CommonSecurityLog, DeviceRegistryEvents, … typed by
 * shared/detections/schemas, plus any test schemas given) and EXECUTES the KQL text it receives
 * over them with devtools/kusto (Microsoft's parser, RE2 regexes): the hunt runs the exact query
 * Sentinel runs. Each record has the time it was ingested (what ingestion_time() returns) and the
 * time it became queryable (visibleAt, default = ingestedAt), so late arrivals and ingestion lag
 * can be played; the request's timespan is applied on TimeGenerated first, as the service does.
 * A query the evaluator refuses (the language service reports an error, or a construct it does not
 * implement) is answered 400 BadArgumentError with the reason, and kept in `evaluationErrors`.
 * The hunt's row-count queries (ending `| summarize Rows = count() by Bin = bin(ingestion_time(), …)`)
 * are executed the same way but logged in `counts`, not `requests`, and take no fault (faults play
 * on row queries).
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
  /** Raw rows per table name; the query is executed over them. */
  tables: Record<string, LaRecord[]>;
  /** Why the evaluator refused a query (each answered 400); a test that expects rows should expect none here. */
  evaluationErrors: string[];
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
  /**
   * When set, a successful query is answered by what this returns (benchmarks serving precomputed
   * answers per window, beyond what the evaluator runs in reasonable time); undefined: executed.
   */
  answerFor?: (request: { query: string; window?: { start: Date; end: Date } }) => Buffer | undefined;
  requests: LaRequest[];
  /** Row-count queries (summarize … by bin(ingestion_time(), …)), apart from the row queries. */
  counts: LaRequest[];
  close(): Promise<void>;
}

export interface LogAnalyticsServerOptions {
  /** Schemas of test-only tables, besides the shipped ones in shared/detections/schemas. */
  schemas?: TableSchema[];
  tls?: { cert: string; key: string };
}

const INGESTION_WINDOW = /ingestion_time\(\)\s*>=\s*datetime\(([^)]+)\)\s*and\s*ingestion_time\(\)\s*<\s*datetime\(([^)]+)\)/;
const ROUTE = /^\/v1\/workspaces\/([^/]+)\/query$/;
const ROW_COUNT = /\|\s*summarize\s+Rows\s*=\s*count\(\)\s+by\s+Bin\s*=\s*bin\(ingestion_time\(\)/;
/** The hidden per-row field ingestion_time() reads. */
const INGESTION_FIELD = '_IngestionTime';

type State = Omit<LogAnalyticsServer, 'endpoint' | 'close'> & { schemas: TableSchema[] };

export async function startLogAnalyticsServer(options: LogAnalyticsServerOptions = {}): Promise<LogAnalyticsServer> {
  const tls = options.tls ?? loopbackTls();
  const schemas = [...loadSchemas(), ...(options.schemas ?? [])];
  // Load the language service now (seconds, once per process), not inside the first timed request.
  executeKql('print ready = 1', { tables: {}, schemas });
  const state: State = {
    schemas,
    tables: {},
    evaluationErrors: [],
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
  const result = state as unknown as LogAnalyticsServer;
  result.endpoint = `https://localhost:${port}/v1`;
  result.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return result;
}

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
  const isCount = ROW_COUNT.test(query);
  (isCount ? state.counts : state.requests).push(log);
  if (!req.headers.authorization?.startsWith('Bearer ')) {
    log.status = 401;
    return send(res, 401, oneApiError('AuthorizationRequiredError', 'Valid authentication was not provided'));
  }
  const fault = isCount ? undefined : (state.faults.shift() ?? state.faultFor?.({ query, ...(window ? { window } : {}) }));
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

  const canned = state.answerFor?.({ query, ...(window ? { window } : {}) });
  if (canned) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': canned.length });
    res.end(canned);
    return;
  }
  if (state.fixedBody) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': state.fixedBody.length });
    res.end(state.fixedBody);
    return;
  }

  let result: KqlResult;
  try {
    result = execute(state, query, body.timespan);
  } catch (err) {
    const message = (err as Error).message;
    state.evaluationErrors.push(message);
    log.status = 400;
    return send(res, 400, {
      error: { message: 'The request had some invalid properties', code: 'BadArgumentError', correlationId: randomUUID(), innererror: { code: 'SemanticError', message } },
    });
  }
  const columns: LaColumn[] = result.columns.map((c) => ({ name: c.name, type: laType(c.type) }));
  const rows = result.rows.map((r) => columns.map((c) => serialiseCell(r[c.name], c.type)));
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
  const answer: Record<string, unknown> = { tables: [{ name: 'PrimaryResult', columns, rows: served }] };
  if (error) answer.error = error;
  send(res, 200, answer);
}

/** Runs the query over the rows visible now, inside the request's timespan (on TimeGenerated). */
function execute(state: State, query: string, timespan: string | undefined): KqlResult {
  const now = state.now();
  const [tsStart, tsEnd] = (timespan ?? '').split('/').map((t) => (t && !t.startsWith('P') ? new Date(t).getTime() : undefined));
  const tables: Record<string, Array<Record<string, unknown>>> = {};
  for (const schema of state.schemas) tables[schema.name] = [];
  for (const [name, records] of Object.entries(state.tables)) {
    tables[name] = records
      .filter((r) => {
        if ((r.visibleAt ?? r.ingestedAt).getTime() > now.getTime()) return false;
        const generated = r.row.TimeGenerated === undefined ? undefined : new Date(String(r.row.TimeGenerated)).getTime();
        if (generated === undefined) return true;
        return !(tsStart !== undefined && generated < tsStart) && !(tsEnd !== undefined && generated > tsEnd);
      })
      .map((r) => ({ ...r.row, [INGESTION_FIELD]: r.ingestedAt.toISOString() }));
  }
  return executeKql(query, { tables, now, schemas: state.schemas, ingestionTimeField: INGESTION_FIELD });
}

const LA_TYPES = new Set<LaColumnType>(['string', 'datetime', 'int', 'long', 'real', 'bool', 'dynamic', 'guid', 'timespan', 'decimal']);
function laType(type: string): LaColumnType {
  return LA_TYPES.has(type as LaColumnType) ? (type as LaColumnType) : 'dynamic';
}

function serialiseCell(value: unknown, type: LaColumnType): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof KqlDateTime) return value.toISOString();
  if (value instanceof KqlTimespan || type === 'timespan') return toKqlString(value as KqlTimespan);
  if (type === 'datetime') return value instanceof Date ? value.toISOString() : String(value);
  if (type === 'dynamic') return typeof value === 'string' ? value : JSON.stringify(value);
  return value;
}

/** The "error" of a 200 answer cut at the service limits or failing in part (for canned answers too). */
export function engineError(code: string, message: string): unknown {
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
