import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError, UpstreamUnavailableError } from '../../../shared/errors.js';
import { parseRetryAfter, postJson, WebhookRejectedError } from '../../../shared/delivery/webhook.js';
import { startWebhookReceiver, TEST_SIGNATURE, type WebhookReceiver } from '../../helpers/webhook-receiver.js';

describe('postJson against a loopback HTTPS receiver', () => {
  let receiver: WebhookReceiver;
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ tls: true });
  });
  afterAll(async () => receiver.stop());
  beforeEach(() => {
    receiver.reset();
    sleeps.length = 0;
  });

  const opts = { destination: 'incident webhook', idempotencyKey: 'key-1', maxAttempts: 4, sleep, baseDelayMs: 10, timeoutMs: 500 };

  it('posts JSON with the Idempotency-Key header', async () => {
    const result = await postJson(receiver.url(), { hello: 'world' }, opts);
    expect(result).toEqual({ status: 202, attempts: 1 });
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.accepted[0]!.body).toEqual({ hello: 'world' });
    expect(receiver.accepted[0]!.idempotencyKey).toBe('key-1');
    expect(receiver.accepted[0]!.headers['content-type']).toContain('application/json');
  });

  it('honours Retry-After on 429 and retries 5xx', async () => {
    receiver.inject({ kind: 'status', status: 429, retryAfter: '3' }, { kind: 'status', status: 503 });
    const result = await postJson(receiver.url(), { n: 1 }, opts);
    expect(result.attempts).toBe(3);
    expect(sleeps[0]).toBe(3000);
    expect(sleeps[1]).toBeGreaterThan(0);
    expect(sleeps[1]).toBeLessThan(3000);
    expect(receiver.requests.map((r) => r.idempotencyKey)).toEqual(['key-1', 'key-1', 'key-1']);
    expect(receiver.accepted).toHaveLength(1);
  });

  it('retries after a timeout; a receiver that processed the lost answer drops the repeat', async () => {
    receiver.inject({ kind: 'hang', processed: true });
    const result = await postJson(receiver.url(), { n: 2 }, opts);
    expect(result.attempts).toBe(2);
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.duplicatesDropped).toBe(1);
  });

  it('gives up after maxAttempts with an error that never shows the signature', async () => {
    receiver.inject(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 500 })));
    const err = await postJson(receiver.url(), {}, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect(receiver.requests).toHaveLength(4);
    const text = `${String(err)} ${JSON.stringify(err)} ${(err as Error).stack}`;
    expect(text).not.toContain(TEST_SIGNATURE);
    expect(text).toContain('127.0.0.1');
  });

  it('does not retry a 400 (permanent)', async () => {
    receiver.inject({ kind: 'status', status: 400 });
    const err = await postJson(receiver.url(), {}, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookRejectedError);
    expect(receiver.requests).toHaveLength(1);
  });

  it('stops when Retry-After asks for longer than it will wait', async () => {
    receiver.inject({ kind: 'status', status: 429, retryAfter: '3600' });
    const err = await postJson(receiver.url(), {}, { ...opts, maxRetryAfterMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(3_600_000);
    expect(receiver.requests).toHaveLength(1);
  });

  it('also works over plain HTTP', async () => {
    const plain = await startWebhookReceiver();
    try {
      await postJson(plain.url('/teams'), { x: 1 }, opts);
      expect(plain.acceptedAt('/teams')).toHaveLength(1);
    } finally {
      await plain.stop();
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2026-11-20T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
