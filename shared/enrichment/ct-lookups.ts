import type { CacheKind, CtCacheStore } from '../state/crtsh-cache.js';
import type { CrtshClient, CtCertificate } from './crtsh-client.js';
import type { CompactHistory } from './ct-history.js';
import { LRUCache } from 'lru-cache';
import { SingleFlight } from './resilience.js';

/**
 * crt.sh lookups behind two caches: an in-memory LRU, then the shared Table cache, then crt.sh.
 * Identical lookups in flight share one promise, so a registrable domain costs one crt.sh
 * request per cache lifetime however many hits name it. Failures are not cached.
 */
export interface CtLookups {
  /** signal: the caller's deadline (a crt.sh lookup stops at it). */
  history(domain: string, signal?: AbortSignal): Promise<{ history: CompactHistory; source: 'crtsh' | 'cache' }>;
  certificate(kind: 'sha256' | 'sha1', fingerprint: string, signal?: AbortSignal): Promise<{ certificate: CtCertificate; source: 'crtsh' | 'cache' }>;
}

export interface CtLookupsOptions {
  client: CrtshClient;
  store?: CtCacheStore;
  ttlMs: number;
  lruEntries?: number;
  now?: () => number;
}

export function createCtLookups(options: CtLookupsOptions): CtLookups {
  // perf: the injected clock drives entry expiry (tests, and one "now" for the whole enricher).
  const lru = new LRUCache<string, NonNullable<unknown>>({ max: options.lruEntries ?? 2_000, ttl: options.ttlMs, perf: { now: options.now ?? Date.now } });
  const flights = new SingleFlight<{ value: unknown; source: 'crtsh' | 'cache' }>();

  function cached<T>(kind: CacheKind, key: string, isValid: (v: unknown) => v is T, fetch: () => Promise<T>): Promise<{ value: T; source: 'crtsh' | 'cache' }> {
    const lruKey = `${kind}:${key}`;
    const hit = lru.get(lruKey);
    if (hit !== undefined && isValid(hit)) return Promise.resolve({ value: hit, source: 'cache' });
    return flights.run(lruKey, async () => {
      const stored = options.store ? await options.store.get(kind, key) : undefined;
      if (stored !== undefined && isValid(stored)) {
        lru.set(lruKey, stored as NonNullable<unknown>);
        return { value: stored, source: 'cache' as const };
      }
      const value = await fetch();
      lru.set(lruKey, value as NonNullable<unknown>);
      if (options.store) await options.store.set(kind, key, value, options.ttlMs);
      return { value, source: 'crtsh' as const };
    }) as Promise<{ value: T; source: 'crtsh' | 'cache' }>;
  }

  return {
    async history(domain, signal) {
      const lookup = signal ? { signal } : {};
      const { value, source } = await cached('history', domain, isCompactHistory, () => options.client.history(domain, lookup));
      return { history: value, source };
    },
    async certificate(kind, fingerprint, signal) {
      const hex = fingerprint.toLowerCase();
      const lookup = signal ? { signal } : {};
      const fetch = kind === 'sha256' ? () => options.client.bySha256(hex, lookup) : () => options.client.bySha1(hex, lookup);
      const { value, source } = await cached(kind, hex, isCtCertificate, fetch);
      return { certificate: value, source };
    },
  };
}

function isCompactHistory(v: unknown): v is CompactHistory {
  return typeof v === 'object' && v !== null && (v as CompactHistory).v === 1 && Array.isArray((v as CompactHistory).certs) && Array.isArray((v as CompactHistory).issuers);
}

function isCtCertificate(v: unknown): v is CtCertificate {
  return typeof v === 'object' && v !== null && typeof (v as CtCertificate).found === 'boolean';
}
