import { describe, expect, it } from 'vitest';
import { CircuitBreaker, SingleFlight, backoffDelay, parseRetryAfter } from '../../../shared/enrichment/resilience.js';
import { registrableDomain } from '../../../shared/enrichment/registrable-domain.js';
import { userAgent } from '../../../shared/enrichment/user-agent.js';

describe('resilience parts', () => {
  it('SingleFlight shares one promise per key and forgets it once settled', async () => {
    const flights = new SingleFlight<number>();
    let calls = 0;
    const task = () => new Promise<number>((r) => setTimeout(() => r(++calls), 5));
    const [a, b] = await Promise.all([flights.run('k', task), flights.run('k', task)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    expect(await flights.run('k', task)).toBe(2);
  });

  it('CircuitBreaker opens, half-opens for one trial, and closes', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 2, openMs: 1_000, now: () => now });
    b.onFailure();
    expect(b.state).toBe('closed');
    b.onFailure();
    expect(b.tryAcquire()).toBe(false);
    now = 1_000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.onFailure();
    expect(b.state).toBe('open');
    now = 2_000;
    expect(b.tryAcquire()).toBe(true);
    b.onSuccess();
    expect(b.state).toBe('closed');
  });

  it('backoff grows, is capped, and is jittered', () => {
    expect(backoffDelay(0, 1_000, 16_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1_000, 16_000, () => 1)).toBe(8_000);
    expect(backoffDelay(10, 1_000, 16_000, () => 1)).toBe(16_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('registrableDomain', () => {
  it.each([
    ['www.example.com', 'example.com'],
    ['*.a.b.example.co.uk', 'example.co.uk'],
    ['WWW.EXAMPLE.COM.', 'example.com'],
    ['app.contoso.azurewebsites.net', 'contoso.azurewebsites.net'],
    ['bücher.de', 'xn--bcher-kva.de'],
  ])('%s → %s', (name, domain) => expect(registrableDomain(name)).toBe(domain));

  it.each(['203.0.113.9', '::1', 'com', 'co.uk', 'localhost', 'host.corp.internal', '', 'bad name.com'])('%s has none', (name) => expect(registrableDomain(name)).toBeUndefined());
});

describe('userAgent', () => {
  it('identifies certsoar and its contact', () => {
    expect(userAgent('soc@example.org')).toMatch(/^certsoar\/\d+\.\d+\.\d+ \(\+soc@example\.org\)$/);
    expect(userAgent()).toMatch(/^certsoar\/\d+\.\d+\.\d+$/);
  });
});
