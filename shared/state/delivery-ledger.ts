import { odata, RestError, type TableClient } from '@azure/data-tables';
import { ensureTable, tableKey } from './storage.js';

/**
 * Which finding went to which destination. The deliverer marks 'posting' before a POST and
 * 'posted' after it; a redelivered queue message skips every destination already 'posted'.
 * A crash after the POST but before the 'posted' mark leaves 'posting': the next attempt posts
 * again with the same Idempotency-Key, and the receiver drops the duplicate.
 * A suppressed finding is recorded as 'suppressed' with the rule, per webhook destination it was kept from.
 *
 * 'pending' (Functions path, Teams only): the deliver function leaves the card to the
 * teams-digest timer, which sends one card per finding or one digest card for many. The ledger
 * row (finding, 'teams') says 'pending'; the card itself waits in a pending row (see PendingLedger).
 */

export type DeliveryStatus = 'pending' | 'posting' | 'posted' | 'suppressed';

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
  /** The delivery that carried this finding when it was not its own (a digest id). */
  deliveredIn?: string;
}

export interface DeliveryLedger {
  get(deliveryId: string, destination: string): Promise<LedgerEntry | undefined>;
  markPosting(deliveryId: string, destination: string, idempotencyKey: string): Promise<LedgerEntry>;
  markPosted(deliveryId: string, destination: string, idempotencyKey: string, httpStatus: number): Promise<void>;
  /** The finding is not posted to this destination because the suppression rule matched it. */
  markSuppressed(deliveryId: string, destination: string, idempotencyKey: string, rule: string): Promise<void>;
}

/**
 * A finding waiting for the teams-digest timer. Kept in the deliveries table, in one partition per
 * destination (PartitionKey tableKey('pending-teams'), RowKey tableKey(finding id)), so the timer
 * reads one partition instead of scanning the whole ledger, and a redelivered message writes the
 * same row again instead of a second one. It carries what the card needs, never the whole finding
 * (a finding with a large row could pass a table property's 64 KB): the Teams message JSON, which
 * card.ts keeps under 28,000 bytes, and the digest row (a few hundred bytes).
 */
export interface PendingEntry {
  findingId: string;
  destination: string;
  /** The single-finding Teams message, JSON. */
  message: string;
  /** The finding's digest row (shared/delivery/digest.ts DigestRow), JSON. */
  summary: string;
  /** The delivery (finding id for its own card, digest id) a timer run assigned it to before posting. */
  claimedBy?: string;
}

export interface PendingLedger {
  /** Pending row first, then the ledger row: a crash between leaves a pending row the timer still sends. */
  markPending(findingId: string, destination: string, idempotencyKey: string, payload: { message: string; summary: string }): Promise<void>;
  listPending(destination: string): Promise<PendingEntry[]>;
  /** Fixes which delivery the entry goes out in, so a retry after a crash posts the same card under the same key. */
  claimPending(findingId: string, destination: string, deliveryId: string): Promise<void>;
  /** The entry went out in deliveryId: ledger row 'posted' (with that delivery's key), then the pending row removed. */
  settlePending(findingId: string, destination: string, deliveryId: string, idempotencyKey: string, httpStatus: number): Promise<void>;
}

export const DELIVERY_TABLE = 'deliveries';

export function tableLedger(client: TableClient, now: () => Date = () => new Date()): DeliveryLedger & PendingLedger {
  const keys = (deliveryId: string, destination: string) => ({ partitionKey: tableKey(deliveryId), rowKey: tableKey(destination) });
  const get = async (deliveryId: string, destination: string): Promise<LedgerEntry | undefined> => {
    await ensureTable(client);
    const k = keys(deliveryId, destination);
    try {
      const e = await client.getEntity<{ status: string; idempotencyKey: string; starts: number; updatedAt: string; httpStatus?: number; suppressedBy?: string; deliveredIn?: string }>(
        k.partitionKey,
        k.rowKey,
      );
      return {
        status: e.status === 'posted' || e.status === 'suppressed' || e.status === 'pending' ? e.status : 'posting',
        ...(e.suppressedBy !== undefined ? { suppressedBy: e.suppressedBy } : {}),
        ...(e.deliveredIn !== undefined ? { deliveredIn: e.deliveredIn } : {}),
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
    async markPending(findingId, destination, idempotencyKey, payload) {
      await ensureTable(client);
      // Merge keeps a claim a timer run may already have made on this row.
      await client.upsertEntity({ ...pendingKeys(findingId, destination), findingId, destination, message: payload.message, summary: payload.summary }, 'Merge');
      const previous = await get(findingId, destination);
      await client.upsertEntity(
        { ...keys(findingId, destination), deliveryId: findingId, destination, status: 'pending', idempotencyKey, starts: previous?.starts ?? 0, updatedAt: now().toISOString() },
        'Replace',
      );
    },
    async listPending(destination) {
      await ensureTable(client);
      const partitionKey = pendingKeys('', destination).partitionKey;
      const entries: PendingEntry[] = [];
      for await (const e of client.listEntities<{ findingId: string; destination: string; message: string; summary: string; claimedBy?: string }>({
        queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` },
      })) {
        entries.push({ findingId: e.findingId, destination: e.destination, message: e.message, summary: e.summary, ...(e.claimedBy ? { claimedBy: e.claimedBy } : {}) });
      }
      return entries;
    },
    async claimPending(findingId, destination, deliveryId) {
      await client.updateEntity({ ...pendingKeys(findingId, destination), claimedBy: deliveryId }, 'Merge');
    },
    async settlePending(findingId, destination, deliveryId, idempotencyKey, httpStatus) {
      const previous = await get(findingId, destination);
      await client.upsertEntity(
        {
          ...keys(findingId, destination),
          deliveryId: findingId,
          destination,
          status: 'posted',
          idempotencyKey,
          starts: previous?.starts ?? 1,
          updatedAt: now().toISOString(),
          httpStatus,
          ...(deliveryId !== findingId ? { deliveredIn: deliveryId } : {}),
        },
        'Replace',
      );
      const k = pendingKeys(findingId, destination);
      try {
        await client.deleteEntity(k.partitionKey, k.rowKey);
      } catch (err) {
        if (!(err instanceof RestError && err.statusCode === 404)) throw err;
      }
    },
  };
}

function pendingKeys(findingId: string, destination: string) {
  return { partitionKey: tableKey(`pending-${destination}`), rowKey: tableKey(findingId) };
}

/** The same contract in memory, for the CLI without storage and for unit tests. */
export function memoryLedger(now: () => Date = () => new Date()): DeliveryLedger & PendingLedger & { entries: Map<string, LedgerEntry>; pending: Map<string, PendingEntry> } {
  const entries = new Map<string, LedgerEntry>();
  const pending = new Map<string, PendingEntry>();
  const key = (d: string, dest: string) => `${d}\u0000${dest}`;
  return {
    entries,
    pending,
    async markPending(findingId, destination, idempotencyKey, payload) {
      const claim = pending.get(key(findingId, destination))?.claimedBy;
      pending.set(key(findingId, destination), { findingId, destination, ...payload, ...(claim ? { claimedBy: claim } : {}) });
      entries.set(key(findingId, destination), { status: 'pending', idempotencyKey, starts: entries.get(key(findingId, destination))?.starts ?? 0, updatedAt: now().toISOString() });
    },
    async listPending(destination) {
      return [...pending.values()].filter((e) => e.destination === destination).map((e) => ({ ...e }));
    },
    async claimPending(findingId, destination, deliveryId) {
      const e = pending.get(key(findingId, destination));
      if (!e) throw new Error(`no pending ${destination} entry for ${findingId}`);
      e.claimedBy = deliveryId;
    },
    async settlePending(findingId, destination, deliveryId, idempotencyKey, httpStatus) {
      entries.set(key(findingId, destination), {
        status: 'posted',
        idempotencyKey,
        starts: entries.get(key(findingId, destination))?.starts ?? 1,
        updatedAt: now().toISOString(),
        httpStatus,
        ...(deliveryId !== findingId ? { deliveredIn: deliveryId } : {}),
      });
      pending.delete(key(findingId, destination));
    },
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
