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

  it('with since, reads only marks made since then (a slice can only be covered by marks after its start)', async () => {
    const seen = make();
    await seen.markSeen('T1608.003', ['early'], t0, 24 * HOUR);
    await seen.markSeen('T1608.003', ['late'], at(2), 24 * HOUR);
    expect(await seen.unseen('T1608.003', ['early', 'late', 'none'], at(3), at(1))).toEqual(['early', 'none']);
    expect(await seen.unseen('T1608.003', ['early', 'late', 'none'], at(3))).toEqual(['none']);
  });

  it('20,000 keys: marked and checked in one go', async () => {
    const seen = make();
    const keys = Array.from({ length: 20_000 }, (_, i) => `${'f'.repeat(24)}${String(i).padStart(8, '0')}`);
    await seen.markSeen('T1608.003', keys.slice(0, 15_000), t0, HOUR);
    const fresh = await seen.unseen('T1608.003', keys, at(0.5), t0);
    expect(fresh).toEqual(keys.slice(15_000));
  });
});

describe('seen hits in Table Storage: layout', () => {
  const table = () => storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.table(`seenlayout${Math.floor(Math.random() * 1e9)}`);

  it('keeps a batch of marks in a few entities (30,000 characters of keys each), not one per key', async () => {
    const client = table();
    const keys = Array.from({ length: 10_000 }, (_, i) => `${'a'.repeat(24)}${String(i).padStart(8, '0')}`);
    await new TableSeenHits(client, 'functions').markSeen('T1608.003', keys, t0, HOUR);
    let entities = 0;
    for await (const _ of client.listEntities()) entities++;
    expect(entities).toBeGreaterThan(1);
    expect(entities).toBeLessThanOrEqual(Math.ceil((keys.length * 35) / 30_000) + 1);
  });

  it('still reads marks of the earlier layout (one entity per key)', async () => {
    const client = table();
    const seen = new TableSeenHits(client, 'functions');
    await seen.markSeen('T1608.003', ['new-layout'], t0, HOUR); // creates the table
    const pk = Buffer.from('functions|T1608.003').toString('base64url');
    await client.createEntity({ partitionKey: pk, rowKey: Buffer.from('old-layout').toString('base64url'), key: 'old-layout', seenAt: t0, expiresAt: at(1) });
    expect(await seen.unseen('T1608.003', ['old-layout', 'new-layout', 'other'], at(0.5), t0)).toEqual(['other']);
  });
});
