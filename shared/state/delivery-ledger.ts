import { RestError, type TableClient } from '@azure/data-tables';
import { ensureTable, tableKey } from './storage.js';

/**
 * Which finding went to which destination. The deliverer marks 'posting' before a POST and
 * 'posted' after it; a redelivered queue message skips every destination already 'posted'.
 * A crash after the POST but before the 'posted' mark leaves 'posting': the next attempt posts
 * again with the same Idempotency-Key, and the receiver drops the duplicate.
 * A suppressed finding is recorded as 'suppressed' with the rule, per webhook destination it was kept from.
 */

export type DeliveryStatus = 'posting' | 'posted' | 'suppressed';

export interface LedgerEntry {
  status: DeliveryStatus;
  idempotencyKey: string;
  /** How many times delivery to this destination was started (redeliveries included). */
  starts: number;
  updatedAt: string;
  /** HTTP status of the successful post, when posted. */
  httpStatus?: number;
  /** Id of the tuning suppression rule that withheld the finding, when suppressed. */
  suppressedBy?: string;
}

export interface DeliveryLedger {
  get(deliveryId: string, destination: string): Promise<LedgerEntry | undefined>;
  markPosting(deliveryId: string, destination: string, idempotencyKey: string): Promise<LedgerEntry>;
  markPosted(deliveryId: string, destination: string, idempotencyKey: string, httpStatus: number): Promise<void>;
  /** The finding is not posted to this destination because the suppression rule matched it. */
  markSuppressed(deliveryId: string, destination: string, idempotencyKey: string, rule: string): Promise<void>;
}

export const DELIVERY_TABLE = 'deliveries';

export function tableLedger(client: TableClient, now: () => Date = () => new Date()): DeliveryLedger {
  const keys = (deliveryId: string, destination: string) => ({ partitionKey: tableKey(deliveryId), rowKey: tableKey(destination) });
  const get = async (deliveryId: string, destination: string): Promise<LedgerEntry | undefined> => {
    await ensureTable(client);
    const k = keys(deliveryId, destination);
    try {
      const e = await client.getEntity<{ status: string; idempotencyKey: string; starts: number; updatedAt: string; httpStatus?: number; suppressedBy?: string }>(k.partitionKey, k.rowKey);
      return {
        status: e.status === 'posted' || e.status === 'suppressed' ? e.status : 'posting',
        ...(e.suppressedBy !== undefined ? { suppressedBy: e.suppressedBy } : {}),
        idempotencyKey: e.idempotencyKey,
        starts: Number(e.starts ?? 0),
        updatedAt: e.updatedAt,
        ...(e.httpStatus !== undefined ? { httpStatus: Number(e.httpStatus) } : {}),
      };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  };
  return {
    get,
    async markPosting(deliveryId, destination, idempotencyKey) {
      const previous = await get(deliveryId, destination);
      const entry: LedgerEntry = { status: 'posting', idempotencyKey, starts: (previous?.starts ?? 0) + 1, updatedAt: now().toISOString() };
      await client.upsertEntity({ ...keys(deliveryId, destination), deliveryId, destination, ...entry }, 'Replace');
      return entry;
    },
    async markPosted(deliveryId, destination, idempotencyKey, httpStatus) {
      const previous = await get(deliveryId, destination);
      await client.upsertEntity(
        { ...keys(deliveryId, destination), deliveryId, destination, status: 'posted', idempotencyKey, starts: previous?.starts ?? 1, updatedAt: now().toISOString(), httpStatus },
        'Replace',
      );
    },
    async markSuppressed(deliveryId, destination, idempotencyKey, rule) {
      const previous = await get(deliveryId, destination);
      await client.upsertEntity(
        { ...keys(deliveryId, destination), deliveryId, destination, status: 'suppressed', idempotencyKey, starts: previous?.starts ?? 0, updatedAt: now().toISOString(), suppressedBy: rule },
        'Replace',
      );
    },
  };
}

/** The same contract in memory, for the CLI without storage and for unit tests. */
export function memoryLedger(now: () => Date = () => new Date()): DeliveryLedger & { entries: Map<string, LedgerEntry> } {
  const entries = new Map<string, LedgerEntry>();
  const key = (d: string, dest: string) => `${d}\u0000${dest}`;
  return {
    entries,
    async get(d, dest) {
      return entries.get(key(d, dest));
    },
    async markPosting(d, dest, idempotencyKey) {
      const entry: LedgerEntry = { status: 'posting', idempotencyKey, starts: (entries.get(key(d, dest))?.starts ?? 0) + 1, updatedAt: now().toISOString() };
      entries.set(key(d, dest), entry);
      return entry;
    },
    async markPosted(d, dest, idempotencyKey, httpStatus) {
      entries.set(key(d, dest), { status: 'posted', idempotencyKey, starts: entries.get(key(d, dest))?.starts ?? 1, updatedAt: now().toISOString(), httpStatus });
    },
    async markSuppressed(d, dest, idempotencyKey, rule) {
      entries.set(key(d, dest), { status: 'suppressed', idempotencyKey, starts: entries.get(key(d, dest))?.starts ?? 0, updatedAt: now().toISOString(), suppressedBy: rule });
    },
  };
}
