import { Agent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';
import { ConfigError, RateLimitedError, UpstreamUnavailableError } from '../errors.js';

/**
 * One HTTP connection to a SIEM's REST API (Splunk management port, QRadar console), shared by
 * hunts, intake and write-back: axios with the SIEM's own CA when it has a private one, no
 * redirects (a redirect would carry the token elsewhere), every status handed back to the caller
 * so each API can classify its own answers.
 */
export interface SiemConnection {
  /** Base URL, e.g. https://splunk.example:8089 or https://qradar.example. */
  baseUrl: string;
  /** Extra headers carrying the credential (Authorization: Bearer …, SEC: …). */
  headers: Record<string, string>;
  /** PEM of a private CA that signed the SIEM's certificate; the system store otherwise. */
  caPem?: string;
  /** Per-request timeout. */
  timeoutMs: number;
}

export function createSiemHttp(connection: SiemConnection): AxiosInstance {
  return axios.create({
    baseURL: connection.baseUrl.replace(/\/+$/, ''),
    headers: { 'User-Agent': 'certsoar', ...connection.headers },
    httpsAgent: new Agent({ keepAlive: true, ...(connection.caPem ? { ca: connection.caPem } : {}) }),
    timeout: connection.timeoutMs,
    maxRedirects: 0,
    validateStatus: () => true,
  });
}

/** Seconds or an HTTP date in Retry-After, as milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The failures every SIEM API shares: a refused credential is a setting to fix (never retried),
 * 429 and 503 are slow-downs, other 5xx an outage. Anything else is the caller's to read.
 */
export function commonFailure(siem: string, tokenSetting: string, response: AxiosResponse, detail: string): Error | undefined {
  const status = response.status;
  if (status === 401 || status === 403) {
    return new ConfigError([{ path: tokenSetting, message: `${siem} refused the credential (HTTP ${status}): ${detail}` }]);
  }
  if (status === 429 || status === 503) return new RateLimitedError(siem, retryAfterMs(response.headers['retry-after']), `HTTP ${status}: ${detail}`);
  if (status >= 500) return new UpstreamUnavailableError(siem, `HTTP ${status}: ${detail}`, status);
  return undefined;
}

/**
 * Retries slow-downs and outages (waiting what Retry-After asked, else exponential from 1 s),
 * never past `deadline` (epoch ms): a failure whose wait would cross it is thrown as it is.
 */
export async function withSiemRetries<T>(deadline: number, attempt: () => Promise<T>, maxAttempts = 4): Promise<T> {
  const askedWait = (e: unknown) => (e instanceof RateLimitedError ? e.retryAfterMs : undefined);
  const backoff = new DelegateBackoff<{ attempt: number; result: { error: Error } | { value: unknown } }>((context) => {
    const asked = 'error' in context.result ? askedWait(context.result.error) : undefined;
    return Math.max(0, Math.min(asked ?? 1_000 * 2 ** (context.attempt - 1), deadline - Date.now() - 1));
  });
  const retryable = (e: Error) =>
    (e instanceof RateLimitedError || e instanceof UpstreamUnavailableError) && Date.now() + (askedWait(e) ?? 1_000) < deadline;
  return retry(handleWhen(retryable), { maxAttempts: maxAttempts - 1, backoff }).execute(attempt);
}
