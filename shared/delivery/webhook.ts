import axios, { type AxiosResponse } from 'axios';
import { RateLimitedError, UpstreamUnavailableError } from '../errors.js';
import { userAgent } from '../enrichment/user-agent.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { safeUrl } from '../redact.js';

/**
 * POSTs JSON to a webhook (Logic App callback, Teams Workflows) with retries. Webhook URLs carry
 * signatures (sig=), so no error or log line built here ever contains the URL beyond safeUrl(),
 * and the underlying axios error (whose config holds the full URL) is never attached as a cause.
 *
 * axios, not @azure/core-rest-pipeline: it is a direct dependency already, gives a per-request
 * timeout and lets us own the retry loop (Retry-After, the Idempotency-Key on every attempt).
 */

export interface PostOptions {
  /** Name for errors and logs, e.g. "incident webhook". */
  destination: string;
  /** Same on every attempt and every redelivery, so the receiver can drop duplicates. */
  idempotencyKey: string;
  maxAttempts: number;
  timeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest Retry-After we wait for in-process; longer asks fail the attempt series. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export interface PostResult {
  status: number;
  attempts: number;
}

/** The receiver refused the request (4xx other than 408/429): retrying cannot help. */
export class WebhookRejectedError extends UpstreamUnavailableError {
  readonly permanent = true;
}

export const DEFAULT_POST_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_DELAY_MS = 30_000;

export const USER_AGENT = userAgent();

export async function postJson(url: string, body: unknown, options: PostOptions): Promise<PostResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const base = options.baseDelayMs ?? 1_000;
  const cap = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxRetryAfter = options.maxRetryAfterMs ?? 120_000;
  const where = `${options.destination} (${safeUrl(url)})`;
  let lastError: Error = new UpstreamUnavailableError(where, 'no attempt made');
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let response: AxiosResponse | undefined;
    let failure: string;
    try {
      response = await axios.post(url, body, {
        timeout: options.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': options.idempotencyKey, 'User-Agent': USER_AGENT },
        validateStatus: () => true,
        maxRedirects: 0,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
      });
    } catch (err) {
      response = undefined;
      const code = (err as { code?: string }).code;
      failure = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timed out' : `network error ${code ?? 'unknown'}`;
      lastError = new UpstreamUnavailableError(where, failure);
    }
    let retryAfterMs: number | undefined;
    if (response) {
      const status = response.status;
      if (status >= 200 && status < 300) return { status, attempts: attempt };
      failure = `HTTP ${status}`;
      if (status === 429) {
        retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        lastError = new RateLimitedError(where, retryAfterMs, failure);
      } else if (status === 408 || status >= 500) {
        lastError = new UpstreamUnavailableError(where, failure, status);
      } else {
        throw new WebhookRejectedError(where, `rejected with HTTP ${status}`, status);
      }
      if (retryAfterMs === undefined && status === 503) retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    } else {
      failure = lastError.message;
    }
    if (attempt >= options.maxAttempts) break;
    if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfter) break;
    const backoff = Math.min(cap, base * 2 ** (attempt - 1));
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    const delayMs = Math.max(retryAfterMs ?? 0, Math.round(jittered));
    options.onRetry?.({ attempt, delayMs, reason: failure });
    await sleep(delayMs);
  }
  throw lastError;
}

export { parseRetryAfter };
