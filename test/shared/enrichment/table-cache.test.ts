import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableCtCache } from '../../../shared/state/crtsh-cache.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';

/** shared/state/crtsh-cache.ts: the Table layer of the crt.sh cache, on Azurite. */
let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite?.stop());

const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

describe('TableCtCache', () => {
  it('round-trips a value and honours its expiry', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const cache = new TableCtCache(table('cacheroundtrip'), () => new Date(now));
    expect(await cache.set('history', 'example.com', { v: 1, certs: [[1, 2]] }, 60_000)).toBe(true);
    expect(await cache.get('history', 'example.com')).toEqual({ v: 1, certs: [[1, 2]] });
    expect(await cache.get('sha256', 'example.com')).toBeUndefined();
    now += 60_001;
    expect(await cache.get('history', 'example.com')).toBeUndefined();
  });

  it('splits a value over several binary properties, each under 64 KiB', async () => {
    const cache = new TableCtCache(table('cachechunks'));
    const value = { blob: randomBytes(200_000).toString('base64') };
    expect(await cache.set('history', 'big.example', value, 60_000)).toBe(true);
    const entity = await table('cachechunks').getEntity<Record<string, unknown>>('history', 'big.example');
    expect(Number(entity.chunks)).toBeGreaterThan(3);
    expect((entity.c0 as Uint8Array).byteLength).toBeLessThanOrEqual(60_000);
    expect(await cache.get('history', 'big.example')).toEqual(value);
  });

  it('does not store a value that cannot fit in one entity', async () => {
    const cache = new TableCtCache(table('cachetoobig'));
    expect(await cache.set('history', 'huge.example', { blob: randomBytes(1_200_000).toString('base64') }, 60_000)).toBe(false);
  });

  it('turns a storage outage into a cache miss, reported through onError', async () => {
    const errors: string[] = [];
    const down = TableClient.fromConnectionString(azurite.connectionString.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, 'TableEndpoint=http://127.0.0.1:9'), 'cachedown', {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    const cache = new TableCtCache(down, () => new Date(), (m) => errors.push(m));
    expect(await cache.get('history', 'example.com')).toBeUndefined();
    expect(await cache.set('history', 'example.com', { v: 1 }, 1_000)).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.join('\n')).not.toMatch(/AccountKey=/);
  });
});
