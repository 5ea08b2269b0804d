import { X509Certificate, createHash } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { RateLimitedError, UpstreamUnavailableError, ValidationError } from '../errors.js';
import type { Enrichment } from '../model.js';
import { errorMessage } from '../redact.js';
import { CRTSH_ROW_CAP } from './crtsh-records.js';
import { looksLikeHtml, parseCrtshBody } from './crtsh-parse.js';
import { type CompactHistory, compactHistory } from './ct-history.js';
import { CircuitBreaker, ConcurrencyLimit, SingleFlight, backoffDelay, parseRetryAfter } from './resilience.js';
import { userAgent } from '../user-agent.js';
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
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface CrtshClient {
  /** CT history of a registrable domain (q=%.domain), reduced to distinct certificates. */
  history(domain: string): Promise<CompactHistory>;
  /** A certificate by SHA-256 (?d=<sha256> PEM download). */
  bySha256(sha256: string): Promise<CtCertificate>;
  /** A certificate by SHA-1 (?sha1= page → crt.sh id → ?d=<id> PEM, checked against the SHA-1). */
  bySha1(sha1: string): Promise<CtCertificate>;
  /** HTTP requests sent so far (attempts, not lookups). */
  readonly requestCount: number;
  readonly breakerState: 'closed' | 'open' | 'half-open';
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

class FinalAnswer {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {}
}

export function createCrtshClient(options: CrtshClientOptions): CrtshClient {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseMs = options.backoffBaseMs ?? 1_000;
  const maxMs = options.backoffMaxMs ?? 16_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const deadlineMs = options.deadlineMs ?? 2 * options.timeoutMs;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const limit = new ConcurrencyLimit(options.concurrency);
  const flights = new SingleFlight<unknown>();
  const breaker = new CircuitBreaker({
    failureThreshold: options.breakerFailureThreshold ?? 3,
    openMs: options.breakerOpenMs ?? 60_000,
    now: () => now().getTime(),
  });
  const http: AxiosInstance = axios.create({
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    timeout: options.timeoutMs,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 3,
    maxContentLength: 512 * 1024 * 1024,
    headers: { 'User-Agent': userAgent(options.contact), Accept: 'application/json, application/pkix-cert, text/plain, */*' },
  });
  let requestCount = 0;

  /** One GET with the whole retry policy; answers the final status and body. */
  async function get(params: Record<string, string>, accept: (status: number, body: string) => 'ok' | 'retry'): Promise<FinalAnswer> {
    if (!breaker.tryAcquire()) {
      throw new UpstreamUnavailableError('crt.sh', `circuit open after repeated failures; next try in ${Math.ceil(breaker.retryInMs / 1000)} s`);
    }
    let last: RetryableFailure | undefined;
    const started = Date.now();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0 && last) {
        const wait = Math.max(last.retryAfterMs ?? 0, backoffDelay(attempt - 1, baseMs, maxMs, random));
        if (last.retryAfterMs !== undefined && last.retryAfterMs > maxRetryAfterMs) break;
        // Callers (an HTTP request, a queue message) cannot wait forever: stop at the deadline.
        if (Date.now() - started + wait >= deadlineMs) break;
        await sleep(Math.min(wait, maxRetryAfterMs));
      }
      const remaining = deadlineMs - (Date.now() - started);
      if (remaining <= 0) break;
      try {
        const answer = await limit.run(() => once(params, Math.min(options.timeoutMs, remaining)));
        if (RETRYABLE_STATUS.has(answer.status)) {
          last = new RetryableFailure(`HTTP ${answer.status}`, answer.status, parseRetryAfter(answer.retryAfter, now().getTime()));
          continue;
        }
        if (answer.status >= 200 && answer.status < 300 && accept(answer.status, answer.body) === 'retry') {
          last = new RetryableFailure(looksLikeHtml(answer.body) ? 'HTML error page with status 200' : 'unexpected answer');
          continue;
        }
        breaker.onSuccess();
        return new FinalAnswer(answer.status, answer.body);
      } catch (err) {
        last = new RetryableFailure(describeNetworkError(err, Math.min(options.timeoutMs, remaining)));
      }
    }
    breaker.onFailure();
    if (last?.status === 429) throw new RateLimitedError('crt.sh', last.retryAfterMs, `HTTP 429 after ${maxAttempts} attempts`);
    throw new UpstreamUnavailableError('crt.sh', `${last?.message ?? 'no answer'} (gave up after retries)`, last?.status);
  }

  async function once(params: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: string; retryAfter?: string }> {
    requestCount++;
    const res = await http.get<string>('/', { params, timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    const retryAfter = res.headers['retry-after'];
    return { status: res.status, body: typeof res.data === 'string' ? res.data : String(res.data ?? ''), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  }

  async function fetchHistory(domain: string): Promise<CompactHistory> {
    let parsed: ReturnType<typeof parseCrtshBody> | undefined;
    const answer = await get({ q: `%.${domain}`, output: 'json', deduplicate: 'Y' }, (_status, body) => {
      try {
        parsed = parseCrtshBody(body);
        return 'ok';
      } catch {
        return 'retry';
      }
    });
    if (answer.status === 404) return compactHistory(domain, [], 0, false, now());
    if (answer.status < 200 || answer.status >= 300 || !parsed) {
      throw new UpstreamUnavailableError('crt.sh', `unexpected HTTP ${answer.status}`, answer.status);
    }
    return compactHistory(domain, parsed.records, parsed.rawRows, parsed.rawRows >= CRTSH_ROW_CAP, now());
  }

  async function fetchPem(id: string, check: { algorithm: 'sha1' | 'sha256'; hex: string } | undefined): Promise<CtCertificate> {
    const answer = await get({ d: id }, (_status, body) => (body.includes('-----BEGIN CERTIFICATE-----') || isNotFoundPage(body) ? 'ok' : 'retry'));
    if (answer.status === 404 || (answer.status === 200 && isNotFoundPage(answer.body) && !answer.body.includes('-----BEGIN CERTIFICATE-----'))) {
      return { found: false };
    }
    if (answer.status !== 200) throw new UpstreamUnavailableError('crt.sh', `unexpected HTTP ${answer.status} for a certificate download`, answer.status);
    const cert = new X509Certificate(answer.body);
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

  async function fetchBySha1(sha1: string): Promise<CtCertificate> {
    const page = await get({ sha1 }, (_status, body) => (crtshIdFromPage(body) || isNotFoundPage(body) ? 'ok' : 'retry'));
    const id = page.status === 200 ? crtshIdFromPage(page.body) : undefined;
    if (!id && (page.status === 404 || isNotFoundPage(page.body))) return { found: false };
    if (page.status !== 200 || !id) throw new UpstreamUnavailableError('crt.sh', `no certificate id on the SHA-1 page (HTTP ${page.status})`, page.status);
    return fetchPem(id, { algorithm: 'sha1', hex: sha1 });
  }

  return {
    history(domain) {
      if (!/^[a-z0-9.-]+$/.test(domain) || !domain.includes('.')) {
        return Promise.reject(new ValidationError('invalid domain for crt.sh', [{ path: 'domain', message: `"${domain}" is not a registrable domain` }]));
      }
      return flights.run(`history:${domain}`, () => fetchHistory(domain)) as Promise<CompactHistory>;
    },
    bySha256(sha256) {
      const hex = sha256.toLowerCase();
      if (!HEX64.test(hex)) return Promise.reject(new ValidationError('invalid fingerprint', [{ path: 'sha256', message: 'expected 64 hex digits' }]));
      return flights.run(`sha256:${hex}`, () => fetchPem(hex, { algorithm: 'sha256', hex })) as Promise<CtCertificate>;
    },
    bySha1(sha1) {
      const hex = sha1.toLowerCase();
      if (!HEX40.test(hex)) return Promise.reject(new ValidationError('invalid fingerprint', [{ path: 'sha1', message: 'expected 40 hex digits' }]));
      return flights.run(`sha1:${hex}`, () => fetchBySha1(hex)) as Promise<CtCertificate>;
    },
    get requestCount() {
      return requestCount;
    },
    get breakerState() {
      return breaker.state;
    },
  };
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
