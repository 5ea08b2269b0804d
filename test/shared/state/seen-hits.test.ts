import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { MemorySeenHits, type SeenHitStore, TableSeenHits } from '../../../shared/state/seen-hits.js';
import { storageClients } from '../../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

const HOUR = 3_600_000;
const t0 = new Date('2026-01-01T10:00:00Z');
const at = (h: number) => new Date(t0.getTime() + h * HOUR);

const cases: Array<[string, () => SeenHitStore]> = [
  [
    'Table Storage (Azurite)',
    () => new TableSeenHits(storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.table(`seen${Math.floor(Math.random() * 1e9)}`), 'functions'),
  ],
  ['memory', () => new MemorySeenHits()],
];

describe.each(cases)('seen hits in %s', (_name, make) => {
  it('reports only unseen keys, per detection, keeping order; keys with awkward characters work', async () => {
    const seen = make();
    const keys = ['a1', 'b/2#?', 'c3', 'd4'];
    expect(await seen.unseen('T1608.003', keys, t0)).toEqual(keys);
    await seen.markSeen('T1608.003', ['b/2#?', 'd4'], t0, 24 * HOUR);
    expect(await seen.unseen('T1608.003', keys, at(1))).toEqual(['a1', 'c3']);
    expect(await seen.unseen('T1588.004', keys, at(1))).toEqual(keys);
  });

  it('forgets a key once it expires, and purges expired entries', async () => {
    const seen = make();
    await seen.markSeen('T1608.003', ['old'], t0, 1 * HOUR);
    await seen.markSeen('T1608.003', ['new'], at(2), 24 * HOUR);
    expect(await seen.unseen('T1608.003', ['old', 'new'], at(0.5))).toEqual([]);
    expect(await seen.unseen('T1608.003', ['old', 'new'], at(3))).toEqual(['old']);
    expect(await seen.purgeExpired('T1608.003', at(3), 100)).toBe(1);
    expect(await seen.purgeExpired('T1608.003', at(3), 100)).toBe(0);
    expect(await seen.unseen('T1608.003', ['old', 'new'], at(3))).toEqual(['old']);
  });

  it('marks more keys than one table transaction holds', async () => {
    const seen = make();
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);
    await seen.markSeen('T1608.003', keys, t0, HOUR);
    expect(await seen.unseen('T1608.003', [...keys, 'extra'], t0)).toEqual(['extra']);
  });
});
