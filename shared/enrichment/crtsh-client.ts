import { X509Certificate, createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import pLimit from 'p-limit';
import { RateLimitedError, UpstreamUnavailableError, ValidationError } from '../errors.js';
import type { Enrichment } from '../model.js';
import { errorMessage } from '../redact.js';
import { AnswerTooLargeError, type BodyLimits, type TextSink, readBoundedBody, textSink } from './bounded-body.js';
import { CRTSH_ROW_CAP } from './crtsh-records.js';
import { CrtshRecordStream } from './crtsh-stream.js';
import { type CompactHistory, compactHistory } from './ct-history.js';
import { CircuitBreaker, SingleFlight, backoffDelay, parseRetryAfter } from './resilience.js';
import { userAgent } from './user-agent.js';
import { isSelfSigned, oneLineDn } from './x509.js';

/** What a fingerprint lookup in CT found (Enrichment.ctCertificate). */
export type CtCertificate = NonNullable<Enrichment['ctCertificate']>;

export interface CrtshClientOptions {
  baseUrl: string;
  timeoutMs: number;
  concurrency: number;
  contact?: string;
  /** Attempts per lookup, the first included. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A Retry-After longer than this is not waited for: the lookup fails as rate limited. */
  maxRetryAfterMs?: number;
  /** Total time one lookup may take, retries and waits included (default 2 × timeoutMs). */
  deadlineMs?: number;
  breakerFailureThreshold?: number;
  breakerOpenMs?: number;
  /** CRTSH_MAX_WIRE_BYTES: bytes read from the wire, before decompression. */
  maxWireBytes?: number;
  /** CRTSH_MAX_RESPONSE_BYTES: bytes after decompression. */
  maxResponseBytes?: number;
  /** CRTSH_MAX_RECORDS: records read from one history answer; the rest is not read (the history says truncated). */
  maxRecords?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A caller's deadline (the HTTP request's): waiting for a slot, retries and reading all stop at it. */
export interface LookupOptions {
  signal?: AbortSignal;
}

export interface CrtshClient {
  /** CT history of a registrable domain (q=%.domain), reduced to distinct certificates. */
  history(domain: string, options?: LookupOptions): Promise<CompactHistory>;
  /** A certificate by SHA-256 (?d=<sha256> PEM download). */
  bySha256(sha256: string, options?: LookupOptions): Promise<CtCertificate>;
  /** A certificate by SHA-1 (?sha1= page → crt.sh id → ?d=<id> PEM, checked against the SHA-1). */
  bySha1(sha1: string, options?: LookupOptions): Promise<CtCertificate>;
  /** HTTP requests sent so far (attempts, not lookups). */
  readonly requestCount: number;
  readonly breakerState: 'closed' | 'open' | 'half-open';
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** PEM downloads and certificate pages are a few KB; error pages are read this far for their title. */
const MAX_PAGE_CHARS = 262_144;

export const CRTSH_DEFAULT_LIMITS = { maxWireBytes: 16 * 1024 * 1024, maxResponseBytes: 64 * 1024 * 1024, maxRecords: CRTSH_ROW_CAP } as const;

class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

interface Answer<S extends TextSink> {
  status: number;
  sink: S;
  truncated: boolean;
  retryAfter?: string;
}

interface ClientContext {
  options: CrtshClientOptions;
  http: AxiosInstance;
  limits: BodyLimits;
  maxAttempts: number;
  deadlineMs: number;
  maxRetryAfterMs: number;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  limit: ReturnType<typeof pLimit>;
  breaker: CircuitBreaker;
  counter: { requests: number };
}

export function createCrtshClient(options: CrtshClientOptions): CrtshClient {
  const ctx = clientContext(options);
  const flights = new SingleFlight<unknown>();
  const maxRecords = options.maxRecords ?? CRTSH_DEFAULT_LIMITS.maxRecords;
  return {
    history(domain, lookup = {}) {
      if (!/^[a-z0-9.-]+$/.test(domain) || !domain.includes('.')) {
        return Promise.reject(new ValidationError('invalid domain for crt.sh', [{ path: 'domain', message: `"${domain}" is not a registrable domain` }]));
      }
      return flights.run(`history:${domain}`, () => fetchHistory(ctx, domain, maxRecords, lookup.signal)) as Promise<CompactHistory>;
    },
    bySha256(sha256, lookup = {}) {
      const hex = sha256.toLowerCase();
      if (!HEX64.test(hex)) return Promise.reject(new ValidationError('invalid fingerprint', [{ path: 'sha256', message: 'expected 64 hex digits' }]));
      return flights.run(`sha256:${hex}`, () => fetchPem(ctx, hex, { algorithm: 'sha256', hex }, lookup.signal)) as Promise<CtCertificate>;
    },
    bySha1(sha1, lookup = {}) {
      const hex = sha1.toLowerCase();
      if (!HEX40.test(hex)) return Promise.reject(new ValidationError('invalid fingerprint', [{ path: 'sha1', message: 'expected 40 hex digits' }]));
      return flights.run(`sha1:${hex}`, () => fetchBySha1(ctx, hex, lookup.signal)) as Promise<CtCertificate>;
    },
    get requestCount() {
      return ctx.counter.requests;
    },
    get breakerState() {
      return ctx.breaker.state;
    },
  };
}

function clientContext(options: CrtshClientOptions): ClientContext {
  const now = options.now ?? (() => new Date());
  return {
    options,
    // No redirects: a 3xx from crt.sh is an answer, never a hop to wherever it points (SSRF).
    http: axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      responseType: 'stream',
      decompress: false,
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { 'User-Agent': userAgent(options.contact), Accept: 'application/json, application/pkix-cert, text/plain, */*', 'Accept-Encoding': 'gzip, deflate, br' },
    }),
    limits: { maxWireBytes: options.maxWireBytes ?? CRTSH_DEFAULT_LIMITS.maxWireBytes, maxBytes: options.maxResponseBytes ?? CRTSH_DEFAULT_LIMITS.maxResponseBytes },
    maxAttempts: options.maxAttempts ?? 4,
    deadlineMs: options.deadlineMs ?? 2 * options.timeoutMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    now,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    random: options.random ?? Math.random,
    limit: pLimit(options.concurrency),
    breaker: new CircuitBreaker({ failureThreshold: options.breakerFailureThreshold ?? 3, openMs: options.breakerOpenMs ?? 60_000, now: () => now().getTime() }),
    counter: { requests: 0 },
  };
}

/**
 * One GET with the whole retry policy; answers the final status and what the sink read.
 * accept() looks at a 2xx answer: 'retry' for a body crt.sh sends when it is overloaded.
 */
async function get<S extends TextSink>(ctx: ClientContext, params: Record<string, string>, makeSink: () => S, accept: (answer: Answer<S>) => 'ok' | 'retry', signal?: AbortSignal): Promise<Answer<S>> {
  if (!ctx.breaker.tryAcquire()) {
    throw new UpstreamUnavailableError('crt.sh', `circuit open after repeated failures; next try in ${Math.ceil(ctx.breaker.retryInMs / 1000)} s`);
  }
  const deadline = AbortSignal.any([AbortSignal.timeout(ctx.deadlineMs), ...(signal ? [signal] : [])]);
  let last: RetryableFailure | undefined;
  for (let attempt = 0; attempt < ctx.maxAttempts && !deadline.aborted; attempt++) {
    if (attempt > 0 && last && !(await waitBeforeRetry(ctx, last, attempt, deadline))) break;
    const outcome = await attemptOnce(ctx, params, makeSink, accept, deadline);
    if (!(outcome instanceof RetryableFailure)) {
      ctx.breaker.onSuccess();
      return outcome;
    }
    last = outcome;
  }
  ctx.breaker.onFailure();
  if (last?.status === 429) throw new RateLimitedError('crt.sh', last.retryAfterMs, `HTTP 429 after ${ctx.maxAttempts} attempts`);
  throw new UpstreamUnavailableError('crt.sh', `${last?.message ?? 'no answer before the deadline'} (gave up after retries)`, last?.status);
}

/** False when the wait would pass the deadline or a Retry-After asks for longer than we wait. */
async function waitBeforeRetry(ctx: ClientContext, last: RetryableFailure, attempt: number, deadline: AbortSignal): Promise<boolean> {
  const wait = Math.max(last.retryAfterMs ?? 0, backoffDelay(attempt - 1, ctx.options.backoffBaseMs ?? 1_000, ctx.options.backoffMaxMs ?? 16_000, ctx.random));
  if (last.retryAfterMs !== undefined && last.retryAfterMs > ctx.maxRetryAfterMs) return false;
  if (deadline.aborted) return false;
  await ctx.sleep(Math.min(wait, ctx.maxRetryAfterMs));
  return !deadline.aborted;
}

/** One attempt: a final answer, or a RetryableFailure. A redirect or an oversized answer throws (retrying brings the same). */
async function attemptOnce<S extends TextSink>(ctx: ClientContext, params: Record<string, string>, makeSink: () => S, accept: (answer: Answer<S>) => 'ok' | 'retry', deadline: AbortSignal): Promise<Answer<S> | RetryableFailure> {
  try {
    const answer = await inSlot(ctx, deadline, () => send(ctx, params, makeSink, deadline));
    if (RETRYABLE_STATUS.has(answer.status)) return new RetryableFailure(`HTTP ${answer.status}`, answer.status, parseRetryAfter(answer.retryAfter, ctx.now().getTime()));
    if (answer.status >= 200 && answer.status < 300 && accept(answer) === 'retry') return new RetryableFailure('unexpected answer');
    return answer;
  } catch (err) {
    if (err instanceof AnswerTooLargeError || err instanceof RedirectRefusedError) throw err;
    if (err instanceof UpstreamUnavailableError) {
      // crt.sh sends its overload and timeout pages as HTML with status 200.
      return new RetryableFailure(/HTML page/.test(err.message) ? 'HTML error page with status 200' : err.message.replace(/^crt\.sh unavailable: /, ''));
    }
    return new RetryableFailure(describeNetworkError(err, ctx.options.timeoutMs));
  }
}

/** Waits for one of CRTSH_CONCURRENCY slots, but never past the caller's deadline. */
function inSlot<T>(ctx: ClientContext, deadline: AbortSignal, task: () => Promise<T>): Promise<T> {
  const late = () => new UpstreamUnavailableError('crt.sh', 'no request slot free before the deadline');
  if (deadline.aborted) return Promise.reject(late());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(late());
    deadline.addEventListener('abort', onAbort, { once: true });
    ctx
      .limit(() => (deadline.aborted ? Promise.reject(late()) : task()))
      .then(resolve, reject)
      .finally(() => deadline.removeEventListener('abort', onAbort));
  });
}

class RedirectRefusedError extends UpstreamUnavailableError {}

async function send<S extends TextSink>(ctx: ClientContext, params: Record<string, string>, makeSink: () => S, deadline: AbortSignal): Promise<Answer<S>> {
  ctx.counter.requests++;
  const signal = AbortSignal.any([deadline, AbortSignal.timeout(ctx.options.timeoutMs)]);
  const res = await ctx.http.get<Readable>('/', { params, signal });
  const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined;
  if (res.status >= 300 && res.status < 400) {
    res.data.destroy();
    throw new RedirectRefusedError('crt.sh', `answered a redirect (HTTP ${res.status}); redirects are not followed`, res.status);
  }
  const ok = res.status >= 200 && res.status < 300;
  const sink = ok ? makeSink() : (textSink(4096) as unknown as S);
  const encoding = res.headers['content-encoding'];
  const truncated = await readBoundedBody(res.data, typeof encoding === 'string' ? encoding : undefined, ctx.limits, sink, signal);
  return { status: res.status, sink, truncated, ...(retryAfter ? { retryAfter } : {}) };
}

async function fetchHistory(ctx: ClientContext, domain: string, maxRecords: number, signal?: AbortSignal): Promise<CompactHistory> {
  const makeSink = () => {
    const stream = new CrtshRecordStream(maxRecords);
    return { stream, push: (text: string) => (stream.push(text), stream.full), end: () => stream.end() };
  };
  const answer = await get(ctx, { q: `%.${domain}`, output: 'json', deduplicate: 'Y' }, makeSink, () => 'ok', signal);
  if (answer.status === 404) return compactHistory(domain, [], 0, false, ctx.now());
  if (answer.status < 200 || answer.status >= 300) throw new UpstreamUnavailableError('crt.sh', `unexpected HTTP ${answer.status}`, answer.status);
  const { records, rawRows } = answer.sink.stream;
  return compactHistory(domain, records, rawRows, answer.truncated || rawRows >= CRTSH_ROW_CAP, ctx.now());
}

async function fetchPem(ctx: ClientContext, id: string, check: { algorithm: 'sha1' | 'sha256'; hex: string } | undefined, signal?: AbortSignal): Promise<CtCertificate> {
  const answer = await get(ctx, { d: id }, () => textSink(MAX_PAGE_CHARS), ({ sink }) => (sink.text.includes('-----BEGIN CERTIFICATE-----') || isNotFoundPage(sink.text) ? 'ok' : 'retry'), signal);
  const body = answer.sink.text;
  if (answer.status === 404 || (answer.status === 200 && isNotFoundPage(body) && !body.includes('-----BEGIN CERTIFICATE-----'))) {
    return { found: false };
  }
  if (answer.status !== 200) throw new UpstreamUnavailableError('crt.sh', `unexpected HTTP ${answer.status} for a certificate download`, answer.status);
  const cert = new X509Certificate(body);
  if (check && createHash(check.algorithm).update(cert.raw).digest('hex') !== check.hex) {
    throw new UpstreamUnavailableError('crt.sh', `the downloaded certificate does not have the requested ${check.algorithm.toUpperCase()}`);
  }
  return {
    found: true,
    subject: oneLineDn(cert.subject),
    issuer: oneLineDn(cert.issuer),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    selfSigned: isSelfSigned(cert),
    ...(/^\d+$/.test(id) ? { crtshId: id } : {}),
  };
}

async function fetchBySha1(ctx: ClientContext, sha1: string, signal?: AbortSignal): Promise<CtCertificate> {
  const page = await get(ctx, { sha1 }, () => textSink(MAX_PAGE_CHARS), ({ sink }) => (crtshIdFromPage(sink.text) || isNotFoundPage(sink.text) ? 'ok' : 'retry'), signal);
  const text = page.sink.text;
  const id = page.status === 200 ? crtshIdFromPage(text) : undefined;
  if (!id && (page.status === 404 || isNotFoundPage(text))) return { found: false };
  if (page.status !== 200 || !id) throw new UpstreamUnavailableError('crt.sh', `no certificate id on the SHA-1 page (HTTP ${page.status})`, page.status);
  return fetchPem(ctx, id, { algorithm: 'sha1', hex: sha1 }, signal);
}

/** crt.sh's certificate page links the download as ?d=<id> and itself as ?id=<id>. */
export function crtshIdFromPage(html: string): string | undefined {
  return /[?&]d=(\d+)/.exec(html)?.[1] ?? /[?&]id=(\d+)/.exec(html)?.[1];
}

function isNotFoundPage(body: string): boolean {
  return /certificate not found|not found/i.test(body.slice(0, 4096)) && !body.includes('-----BEGIN CERTIFICATE-----');
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ERR_CANCELED' || err.code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
    return `network error ${err.code ?? ''}`.trim();
  }
  return errorMessage(err);
}
