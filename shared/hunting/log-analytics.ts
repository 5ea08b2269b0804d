import type { TokenCredential } from '@azure/identity';
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from '@azure/monitor-query-logs';
import { RateLimitedError, UpstreamUnavailableError } from '../errors.js';
import type { QueryWindow } from '../detections/types.js';

/**
 * Log Analytics through the real LogsQueryClient, with every failure the service has turned into
 * one of a few typed outcomes the hunt loop acts on:
 * - ResultTooLargeError: the answer was cut at the service limits (500,000 rows / 64 MB) or the
 *   query ran out of resources → the caller splits the window;
 * - PartialResultError: any other status-200-with-error. The service puts the reason
 *   (E_QUERY_RESULT_SET_TOO_LARGE …) in error.details[].innererror, which LogsQueryClient 1.0.0
 *   drops when it deserialises details, so a cut answer usually arrives as this one: the caller
 *   splits on it too, and never uses the partial rows;
 * - QueryTimeoutError: 504, or our own deadline → the caller splits the window;
 * - QueryRejectedError: 400 (syntax, unknown column …) → the detection is unhealthy, watermark kept;
 * - RateLimitedError / UpstreamUnavailableError: 429 / 5xx / network after the SDK's retries.
 *
 * Retries: the SDK's default retry policy already retries 429 and 503 carrying Retry-After (it
 * waits what the header says), and 408/5xx (except 501/505) and socket errors with exponential
 * backoff. We keep that policy and set it explicitly (maxRetries, delays) so the total time a
 * query may take is bounded by `deadlineMs` (an AbortSignal), which the caller sizes below the
 * function timeout. After the SDK gives up, the hunt stops for this run and the next timer run
 * tries again from the same watermark: the schedule is the outer backoff.
 */

export const LOG_ANALYTICS_SCOPE = 'https://api.loganalytics.io/.default';

export interface LogsClientOptions {
  /** LOG_ANALYTICS_ENDPOINT, including /v1 (e.g. https://api.loganalytics.io/v1). */
  endpoint: string;
  /** SDK retry policy; defaults suit Azure (tests pass small delays). */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

export function createLogsQueryClient(credential: TokenCredential, options: LogsClientOptions): LogsQueryClient {
  const client = new LogsQueryClient(credential, {
    endpoint: options.endpoint.replace(/\/+$/, ''),
    credentials: { scopes: [scopeForEndpoint(options.endpoint)] },
    retryOptions: {
      maxRetries: options.retry?.maxRetries ?? 3,
      retryDelayInMs: options.retry?.retryDelayInMs ?? 2_000,
      maxRetryDelayInMs: options.retry?.maxRetryDelayInMs ?? 30_000,
    },
    userAgentOptions: { userAgentPrefix: 'certsoar' },
  });
  return withDeadlinePolicy(client);
}

/**
 * queryWorkspace drops `abortSignal` from its options (LogsQueryClient 1.0.0 forwards only the
 * Prefer header and requestOptions), so the deadline travels as a request header that this
 * policy, placed before the retry policy, turns into an AbortSignal covering every retry.
 */
const DEADLINE_HEADER = 'x-certsoar-deadline';
const DEADLINE_POLICY = 'certsoarDeadlinePolicy';

export function withDeadlinePolicy(client: LogsQueryClient): LogsQueryClient {
  if (client.pipeline.getOrderedPolicies().some((p) => p.name === DEADLINE_POLICY)) return client;
  client.pipeline.addPolicy({
    name: DEADLINE_POLICY,
    sendRequest: (request, next) => {
      const deadline = Number(request.headers.get(DEADLINE_HEADER));
      request.headers.delete(DEADLINE_HEADER);
      if (Number.isFinite(deadline)) {
        const timeout = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
        request.abortSignal = request.abortSignal ? AbortSignal.any([timeout, request.abortSignal as AbortSignal]) : timeout;
      }
      return next(request);
    },
  });
  return client;
}

/** Sovereign clouds answer on their own host and want a token for it; anything else (tests) uses the public audience. */
export function scopeForEndpoint(endpoint: string): string {
  const host = new URL(endpoint).hostname.toLowerCase();
  return /^api\.loganalytics\.(io|us|azure\.cn)$/.test(host) ? `https://${host}/.default` : LOG_ANALYTICS_SCOPE;
}

export class ResultTooLargeError extends Error {
  constructor(readonly detail: string) {
    super(`result cut at the service limits: ${detail}`);
    this.name = 'ResultTooLargeError';
  }
}

export class QueryTimeoutError extends Error {
  constructor(readonly detail: string) {
    super(`query timed out: ${detail}`);
    this.name = 'QueryTimeoutError';
  }
}

export class QueryRejectedError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`query rejected (${code}): ${detail}`);
    this.name = 'QueryRejectedError';
  }
}

export class PartialResultError extends Error {
  constructor(readonly detail: string) {
    super(`partial result: ${detail}`);
    this.name = 'PartialResultError';
  }
}

/** The codes and messages Kusto uses when a result or the query hit a resource limit. */
const TOO_LARGE_MARKERS = [
  'E_QUERY_RESULT_SET_TOO_LARGE',
  '-2133196797', // 0x80DA0003
  '80DA0003',
  'E_RUNAWAY_QUERY',
  '80DA0001',
  'E_LOW_MEMORY_CONDITION',
  '80DA0007',
  'exceeded the allowed limits',
];

export interface QueryAnswer {
  table: LogsTable;
}

export interface QueryRequest {
  workspaceId: string;
  query: string;
  window: QueryWindow;
  /** TimeGenerated range for the API's timespan (must cover the query's own TimeGenerated guard). */
  timespan: { startTime: Date; endTime: Date };
  serverTimeoutInSeconds: number;
  /** Total time for the query including the SDK's retries. */
  deadlineMs: number;
}

/** Runs one query; returns the primary table or throws one of the typed errors above. */
export async function queryPrimaryTable(client: LogsQueryClient, request: QueryRequest): Promise<QueryAnswer> {
  let result;
  try {
    result = await withDeadlinePolicy(client).queryWorkspace(request.workspaceId, request.query, request.timespan, {
      serverTimeoutInSeconds: request.serverTimeoutInSeconds,
      requestOptions: { headers: { [DEADLINE_HEADER]: String(Date.now() + request.deadlineMs) } },
    });
  } catch (err) {
    throw classifyFailure(err);
  }
  if (result.status === LogsQueryResultStatus.PartialFailure) {
    const text = describe(result.partialError);
    if (TOO_LARGE_MARKERS.some((m) => text.includes(m))) throw new ResultTooLargeError(text);
    throw new PartialResultError(text);
  }
  const table = result.tables[0];
  if (!table) throw new PartialResultError('the answer had no table');
  return { table };
}

function classifyFailure(err: unknown): Error {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new QueryTimeoutError('no answer within the deadline (including retries)');
  }
  const e = err as { statusCode?: number; code?: string; message?: string; details?: unknown; response?: { headers?: { get(name: string): string | undefined } } };
  const status = e?.statusCode;
  const detail = e?.details ? describe((e.details as { error?: unknown }).error ?? e.details) : (e?.message ?? String(err));
  if (status === 400) {
    const code = ((e.details as { error?: { code?: string } } | undefined)?.error?.code) ?? 'BadRequest';
    return new QueryRejectedError(code, detail);
  }
  if (status === 504 || status === 408) return new QueryTimeoutError(`HTTP ${status}: ${detail}`);
  if (status === 429) {
    const retryAfter = Number(e.response?.headers?.get('retry-after'));
    return new RateLimitedError('Log Analytics', Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined, detail);
  }
  if (status !== undefined) return new UpstreamUnavailableError('Log Analytics', `HTTP ${status}: ${detail}`, status, { cause: err });
  return new UpstreamUnavailableError('Log Analytics', e?.code ? `${e.code}: ${e.message ?? ''}` : String(e?.message ?? err), undefined, { cause: err });
}

/** One line from a OneAPI error object: the outer message and every nested code/message. */
export function describe(error: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown, depth: number) => {
    if (!node || typeof node !== 'object' || depth > 6) return;
    const n = node as { code?: unknown; message?: unknown; details?: unknown; innererror?: unknown };
    const piece = [n.code, n.message].filter((x) => x !== undefined && x !== null && x !== '').join(': ');
    if (piece) parts.push(piece);
    if (Array.isArray(n.details)) for (const d of n.details) walk(d, depth + 1);
    walk(n.innererror, depth + 1);
  };
  walk(error, 0);
  return parts.join(' / ') || 'no error detail';
}
