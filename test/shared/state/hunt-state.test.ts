import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { type HuntStateStore, MemoryHuntState, TableHuntState, WatermarkConflictError } from '../../../shared/state/hunt-state.js';
import { storageClients } from '../../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

function tableState(table: string, scope: string): TableHuntState {
  const clients = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }));
  return new TableHuntState(clients!.table(table), scope);
}

const cases: Array<[string, () => HuntStateStore]> = [
  ['Table Storage (Azurite)', () => tableState(`huntstate${Math.floor(Math.random() * 1e9)}`, 'functions')],
  ['memory', () => new MemoryHuntState()],
];

describe.each(cases)('hunt state in %s', (_name, make) => {
  it('has no watermark at first, then keeps the one written, per detection', async () => {
    const state = make();
    expect(await state.getWatermark('T1608.003')).toBeUndefined();
    const w = await state.setWatermark('T1608.003', new Date('2026-01-01T10:00:00Z'), undefined);
    expect(w.value.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    const read = await state.getWatermark('T1608.003');
    expect(read?.value.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    await state.setWatermark('T1608.003', new Date('2026-01-01T11:00:00Z'), read);
    expect((await state.getWatermark('T1608.003'))?.value.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(await state.getWatermark('T1588.004')).toBeUndefined();
  });

  it('refuses a watermark write based on a stale read (another runner moved it)', async () => {
    const state = make();
    await state.setWatermark('T1608.003', new Date('2026-01-01T10:00:00Z'), undefined);
    const mine = await state.getWatermark('T1608.003');
    const theirs = await state.getWatermark('T1608.003');
    await state.setWatermark('T1608.003', new Date('2026-01-01T12:00:00Z'), theirs);
    await expect(state.setWatermark('T1608.003', new Date('2026-01-01T11:00:00Z'), mine)).rejects.toThrow(WatermarkConflictError);
    await expect(state.setWatermark('T1608.003', new Date('2026-01-01T11:00:00Z'), undefined)).rejects.toThrow(WatermarkConflictError);
    expect((await state.getWatermark('T1608.003'))?.value.toISOString()).toBe('2026-01-01T12:00:00.000Z');
  });

  it('records health', async () => {
    const state = make();
    expect(await state.getHealth('T1608.003')).toBeUndefined();
    await state.setHealth('T1608.003', { healthy: false, reason: 'BadArgumentError: SEM0100', checkedAt: '2026-01-01T10:00:00.000Z' });
    expect(await state.getHealth('T1608.003')).toEqual({ healthy: false, reason: 'BadArgumentError: SEM0100', checkedAt: '2026-01-01T10:00:00.000Z' });
    await state.setHealth('T1608.003', { healthy: true, checkedAt: '2026-01-01T10:15:00.000Z', lastSuccessAt: '2026-01-01T10:15:00.000Z' });
    expect(await state.getHealth('T1608.003')).toEqual({ healthy: true, checkedAt: '2026-01-01T10:15:00.000Z', lastSuccessAt: '2026-01-01T10:15:00.000Z' });
  });
});

describe('scopes in Table Storage', () => {
  it('keep the CLI’s watermarks apart from the functions’', async () => {
    const functions = tableState('huntstatescopes', 'functions');
    const cli = tableState('huntstatescopes', 'cli');
    await functions.setWatermark('T1608.003', new Date('2026-01-01T10:00:00Z'), undefined);
    expect(await cli.getWatermark('T1608.003')).toBeUndefined();
  });
});
