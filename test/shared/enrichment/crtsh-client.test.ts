import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError, UpstreamUnavailableError } from '../../../shared/errors.js';
import { type CrtshClientOptions, createCrtshClient } from '../../../shared/enrichment/crtsh-client.js';
import { CERTSOAR_VERSION } from '../../../shared/user-agent.js';
import { makeCert } from '../../helpers/certs.js';
import { type CrtshStandIn, dataset, startCrtshStandIn, syntheticHistory } from '../../helpers/crtsh-stand-in.js';

let crtsh: CrtshStandIn;
let waits: number[];

beforeAll(async () => {
  crtsh = await startCrtshStandIn();
  crtsh.setHistory('example.com', dataset('example.com.json'));
  crtsh.setHistory('reddit.com', dataset('reddit.com.jsonlist'));
});
afterAll(() => crtsh.stop());
beforeEach(() => {
  crtsh.reset();
  crtsh.latencyMs = 0;
  waits = [];
});

function client(over: Partial<CrtshClientOptions> = {}) {
  return createCrtshClient({
    baseUrl: crtsh.url,
    timeoutMs: 2_000,
    concurrency: 3,
    contact: 'soc@example.org',
    sleep: async (ms) => void waits.push(ms),
    random: () => 0.5,
    deadlineMs: 10_000,
    ...over,
  });
}

describe('crt.sh client: answers', () => {
  it('asks for %.domain as JSON, identifies itself, and reduces the answer', async () => {
    const c = client();
    const h = await c.history('example.com');
    expect(h.certs).toHaveLength(14);
    expect(h.truncated).toBe(false);
    expect(crtsh.requests).toHaveLength(1);
    expect(crtsh.requests[0]!.query).toEqual({ q: '%.example.com', output: 'json', deduplicate: 'Y' });
    expect(crtsh.requests[0]!.userAgent).toBe(`certsoar/${CERTSOAR_VERSION} (+soc@example.org)`);
  });

  it('reads the legacy concatenated answer', async () => {
    const h = await client().history('reddit.com');
    expect(h.rawRows).toBe(175);
    expect(h.certs.length).toBe(155);
  });

  it('reports an answer cut at the 10,000-row cap as truncated', async () => {
    crtsh.setHistory('big.test', syntheticHistory('big.test', 10_000));
    crtsh.setHistory('almost.test', syntheticHistory('almost.test', 9_999));
    const c = client();
    expect((await c.history('big.test')).truncated).toBe(true);
    expect((await c.history('almost.test')).truncated).toBe(false);
  });
});

describe('crt.sh client: failures', () => {
  it('retries 502 and 503 with growing backoff', async () => {
    crtsh.queueFaults({ kind: 'status', status: 502 }, { kind: 'status', status: 503 });
    const h = await client().history('example.com');
    expect(h.certs).toHaveLength(14);
    expect(crtsh.requestCount).toBe(3);
    expect(waits).toEqual([750, 1500]);
  });

  it('honours Retry-After on 429', async () => {
    crtsh.queueFaults({ kind: 'status', status: 429, retryAfter: '7' });
    await client().history('example.com');
    expect(crtsh.requestCount).toBe(2);
    expect(waits).toEqual([7000]);
  });

  it('gives up as rate limited when Retry-After is longer than it will wait', async () => {
    crtsh.queueFaults({ kind: 'status', status: 429, retryAfter: '3600' });
    const err = await client({ maxRetryAfterMs: 10_000 }).history('example.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(3_600_000);
    expect(crtsh.requestCount).toBe(1);
  });

  it('times out a slow answer and retries', async () => {
    crtsh.queueFaults({ kind: 'slow', ms: 1_500 });
    const started = Date.now();
    const h = await client({ timeoutMs: 300 }).history('example.com');
    expect(h.certs).toHaveLength(14);
    expect(crtsh.requestCount).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('fails with an upstream error when every attempt is too slow', async () => {
    crtsh.setPersistentFault({ kind: 'slow', ms: 1_000 });
    const err = await client({ timeoutMs: 150, maxAttempts: 2 }).history('example.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect((err as Error).message).toMatch(/no answer within 150 ms/);
  });

  it('stops retrying at the lookup deadline', async () => {
    crtsh.setPersistentFault({ kind: 'slow', ms: 2_000 });
    const started = Date.now();
    const err = await client({ timeoutMs: 200, deadlineMs: 500, maxAttempts: 10, backoffBaseMs: 10, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) })
      .history('example.com')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(900);
    expect(crtsh.requestCount).toBeLessThanOrEqual(3);
  });

  it('recognises an HTML error page with status 200 and retries it', async () => {
    crtsh.queueFaults({ kind: 'html200' });
    expect((await client().history('example.com')).certs).toHaveLength(14);
    expect(crtsh.requestCount).toBe(2);
    crtsh.reset();
    crtsh.setPersistentFault({ kind: 'html200' });
    await expect(client({ maxAttempts: 2 }).history('example.com')).rejects.toThrow(/HTML error page with status 200/);
  });

  it('retries malformed JSON and a dropped connection', async () => {
    crtsh.queueFaults({ kind: 'malformed' }, { kind: 'reset' });
    expect((await client().history('example.com')).certs).toHaveLength(14);
    expect(crtsh.requestCount).toBe(3);
  });

  it('opens the circuit while crt.sh is down, then tries once more after the pause', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const c = client({ maxAttempts: 2, breakerFailureThreshold: 2, breakerOpenMs: 60_000, now: () => new Date(now) });
    crtsh.setPersistentFault({ kind: 'status', status: 503 });
    await expect(c.history('a.test')).rejects.toThrow(UpstreamUnavailableError);
    await expect(c.history('b.test')).rejects.toThrow(UpstreamUnavailableError);
    expect(crtsh.requestCount).toBe(4);
    expect(c.breakerState).toBe('open');
    await expect(c.history('c.test')).rejects.toThrow(/circuit open/);
    expect(crtsh.requestCount).toBe(4);
    now += 61_000;
    crtsh.setPersistentFault(undefined);
    expect(c.breakerState).toBe('half-open');
    await c.history('example.com');
    expect(c.breakerState).toBe('closed');
    expect(crtsh.requestCount).toBe(5);
  });
});

describe('crt.sh client: sharing the service politely', () => {
  it('coalesces identical lookups in flight into one request', async () => {
    crtsh.latencyMs = 100;
    const c = client();
    const all = await Promise.all(Array.from({ length: 10 }, () => c.history('example.com')));
    expect(all.every((h) => h === all[0])).toBe(true);
    expect(crtsh.requestCount).toBe(1);
  });

  it('never has more than CRTSH_CONCURRENCY requests in flight', async () => {
    crtsh.latencyMs = 80;
    const c = client({ concurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => c.history(`d${i}.test`)));
    expect(crtsh.requestCount).toBe(8);
    expect(crtsh.peakConcurrent).toBe(2);
  });
});

describe('crt.sh client: fingerprint lookups', () => {
  it('downloads a certificate by SHA-256 and reads it with X509Certificate', async () => {
    const ca = await makeCert({ subject: 'CN=Lookup Test CA, O=certsoar', isCa: true });
    const leaf = await makeCert({ subject: 'CN=www.lookup.test', sans: ['www.lookup.test'], issuer: ca, notBefore: new Date('2025-02-01T00:00:00Z'), notAfter: new Date('2025-05-01T00:00:00Z') });
    crtsh.addCertificate({ id: 4242, sha256: leaf.sha256, sha1: leaf.sha1, pem: leaf.certPem });
    crtsh.addCertificate({ id: 4243, sha256: ca.sha256, sha1: ca.sha1, pem: ca.certPem });
    const c = client();
    const found = await c.bySha256(leaf.sha256.toUpperCase());
    expect(found).toMatchObject({ found: true, subject: 'CN=www.lookup.test', issuer: 'CN=Lookup Test CA, O=certsoar', notBefore: '2025-02-01T00:00:00.000Z', selfSigned: false });
    expect(crtsh.requests[0]!.query).toEqual({ d: leaf.sha256 });
    expect((await c.bySha256(ca.sha256)).selfSigned).toBe(true);
    expect(await c.bySha256('ab'.repeat(32))).toEqual({ found: false });
  });

  it('finds a certificate by SHA-1 through its crt.sh page and checks the download', async () => {
    const cert = await makeCert({ subject: 'CN=sha1.lookup.test' });
    crtsh.addCertificate({ id: 777, sha256: cert.sha256, sha1: cert.sha1, pem: cert.certPem });
    const c = client();
    const found = await c.bySha1(cert.sha1);
    expect(found).toMatchObject({ found: true, crtshId: '777', subject: 'CN=sha1.lookup.test', selfSigned: true });
    expect(crtsh.requests.map((r) => r.query)).toEqual([{ sha1: cert.sha1 }, { d: '777' }]);
    expect(await c.bySha1('cd'.repeat(20))).toEqual({ found: false });
  });

  it('refuses a download whose fingerprint is not the one asked for', async () => {
    const a = await makeCert({ subject: 'CN=a.test' });
    const b = await makeCert({ subject: 'CN=b.test' });
    crtsh.addCertificate({ id: 900, sha256: b.sha256, sha1: a.sha1, pem: b.certPem });
    await expect(client().bySha1(a.sha1)).rejects.toThrow(/does not have the requested SHA1/);
  });
});
