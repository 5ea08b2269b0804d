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

export type DeliveryStatus = 'pending' | 'posting' | 'posted' | 'suppressed' | 'poisoned';

export interface LedgerEntry {
  status: DeliveryStatus;
  idempotencyKey: string;
  /** How many times delivery to this destination was started (redeliveries included). */
  starts: number;
  updatedAt: string;
  /** While 'posting': until when the worker that claimed it may still be posting (ISO-8601). */
  leaseUntil?: string;
  /** HTTP status of the successful post, when posted. */
  httpStatus?: number;
  /** Id of the tuning suppression rule that withheld the finding, when suppressed. */
  suppressedBy?: string;
  /** The delivery that carried this finding when it was not its own (a digest id). */
  deliveredIn?: string;
  /** Why delivery was given up, when poisoned (redacted). */
  error?: string;
}

/** The outcome of trying to claim a delivery: the claim, or the entry that holds it (posted, or posting under a live lease). */
export type Claim = { claimed: true; entry: LedgerEntry; previous?: LedgerEntry } | { claimed: false; current: LedgerEntry };

export interface DeliveryLedger {
  get(deliveryId: string, destination: string): Promise<LedgerEntry | undefined>;
  /**
   * Claims the delivery with a conditional write (insert-if-absent, or replace-if-unchanged by
   * etag), so of two workers holding the same message exactly one posts. A 'posting' entry whose
   * lease has not run out, and a 'posted' one, are not claimable.
   */
  markPosting(deliveryId: string, destination: string, idempotencyKey: string, leaseMs?: number): Promise<Claim>;
  markPosted(deliveryId: string, destination: string, idempotencyKey: string, httpStatus: number): Promise<void>;
  /** The post failed and this worker is still alive: ends the lease so the next attempt need not wait for it. */
  release(deliveryId: string, destination: string): Promise<void>;
  /** The finding is not posted to this destination because the suppression rule matched it. */
  markSuppressed(deliveryId: string, destination: string, idempotencyKey: string, rule: string): Promise<void>;
}

/** Whether a worker may claim this entry at `at`. */
export function claimable(entry: LedgerEntry | undefined, at: Date): boolean {
  if (!entry) return true;
  if (entry.status === 'posted' || entry.status === 'poisoned') return false;
  if (entry.status === 'posting' && entry.leaseUntil !== undefined) return Date.parse(entry.leaseUntil) <= at.getTime();
  return true;
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
  /** Timer runs that failed to post it. */
  failures?: number;
}

export interface PendingLedger {
  /**
   * Ledger row 'pending' (insert-if-absent: never over 'posting', 'posted' or 'poisoned'), then the
   * pending row. A crash between leaves a 'pending' ledger row without a card; the redelivered
   * message writes the card again. The timer drops a card whose finding is already 'posted'.
   */
  markPending(findingId: string, destination: string, idempotencyKey: string, payload: { message: string; summary: string }): Promise<void>;
  listPending(destination: string): Promise<PendingEntry[]>;
  /** Fixes which delivery the entry goes out in, so a retry after a crash posts the same card under the same key. */
  claimPending(findingId: string, destination: string, deliveryId: string): Promise<void>;
  /** The entry went out in deliveryId: ledger row 'posted' (with that delivery's key), then the pending row removed. */
  settlePending(findingId: string, destination: string, deliveryId: string, idempotencyKey: string, httpStatus: number): Promise<void>;
  /** One more failed attempt at posting the entry; answers the failures so far. */
  recordPendingFailure(findingId: string, destination: string): Promise<number>;
  /** Delivery given up (sent to the poison queue): ledger row 'poisoned' with the reason, pending row removed. */
  poisonPending(findingId: string, destination: string, idempotencyKey: string, error: string): Promise<void>;
  /** Removes a pending row without touching the ledger row (a stray card for a finding already posted). */
  dropPending(findingId: string, destination: string): Promise<void>;
}

export const DELIVERY_TABLE = 'deliveries';

type LedgerRow = Omit<LedgerEntry, 'status' | 'starts'> & { status: string; starts?: number };
type PendingRow = { findingId: string; destination: string; message: string; summary: string; claimedBy?: string; failures?: number };

/** A RestError for a conditional write that lost (the row exists, or changed since it was read). */
function lostRace(err: unknown): boolean {
  return err instanceof RestError && (err.statusCode === 409 || err.statusCode === 412);
}

function notFound(err: unknown): boolean {
  return err instanceof RestError && err.statusCode === 404;
}

function toEntry(e: LedgerRow): LedgerEntry {
  const status: DeliveryStatus = (['pending', 'posted', 'suppressed', 'poisoned'] as const).find((s) => s === e.status) ?? 'posting';
  return {
    status,
    idempotencyKey: e.idempotencyKey,
    starts: Number(e.starts ?? 0),
    updatedAt: e.updatedAt,
    ...(e.leaseUntil !== undefined ? { leaseUntil: e.leaseUntil } : {}),
    ...(e.httpStatus !== undefined ? { httpStatus: Number(e.httpStatus) } : {}),
    ...(e.suppressedBy !== undefined ? { suppressedBy: e.suppressedBy } : {}),
    ...(e.deliveredIn !== undefined ? { deliveredIn: e.deliveredIn } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  };
}

/** The ledger in Azure Table storage; every claim is a conditional write (see DeliveryLedger.markPosting). */
export function tableLedger(client: TableClient, now: () => Date = () => new Date()): DeliveryLedger & PendingLedger {
  const rows = tableRows(client, now);
  return { ...tableDeliveryLedger(rows, now), ...tablePendingLedger(client, rows, now) };
}

type TableRows = ReturnType<typeof tableRows>;

/** Reads and writes of ledger rows, shared by both roles. */
function tableRows(client: TableClient, now: () => Date) {
  const keys = (deliveryId: string, destination: string) => ({ partitionKey: tableKey(deliveryId), rowKey: tableKey(destination) });
  const row = (deliveryId: string, destination: string, entry: LedgerEntry) => ({ ...keys(deliveryId, destination), deliveryId, destination, ...entry });
  return {
    async read(deliveryId: string, destination: string): Promise<{ entry: LedgerEntry; etag: string } | undefined> {
      await ensureTable(client);
      const k = keys(deliveryId, destination);
      try {
        const e = await client.getEntity<LedgerRow>(k.partitionKey, k.rowKey);
        return { entry: toEntry(e), etag: e.etag };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    /** Insert when absent, replace when unchanged since read; false when another writer got there first. */
    async writeIfUnchanged(deliveryId: string, destination: string, entry: LedgerEntry, etag: string | undefined): Promise<boolean> {
      try {
        if (etag === undefined) await client.createEntity(row(deliveryId, destination, entry));
        else await client.updateEntity(row(deliveryId, destination, entry), 'Replace', { etag });
        return true;
      } catch (err) {
        if (lostRace(err)) return false;
        throw err;
      }
    },
    async replace(deliveryId: string, destination: string, entry: LedgerEntry): Promise<void> {
      await ensureTable(client);
      await client.upsertEntity(row(deliveryId, destination, entry), 'Replace');
    },
    async deletePending(findingId: string, destination: string): Promise<void> {
      const k = pendingKeys(findingId, destination);
      try {
        await client.deleteEntity(k.partitionKey, k.rowKey);
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    },
    stamp: () => now().toISOString(),
  };
}

function tableDeliveryLedger(rows: TableRows, now: () => Date): DeliveryLedger {
  return {
    get: async (deliveryId, destination) => (await rows.read(deliveryId, destination))?.entry,
    async markPosting(deliveryId, destination, idempotencyKey, leaseMs) {
      const current = await rows.read(deliveryId, destination);
      const at = now();
      if (current && !claimable(current.entry, at)) return { claimed: false, current: current.entry };
      const entry = postingEntry(idempotencyKey, current?.entry, at, leaseMs);
      if (await rows.writeIfUnchanged(deliveryId, destination, entry, current?.etag)) return { claimed: true, entry, ...(current ? { previous: current.entry } : {}) };
      const winner = await rows.read(deliveryId, destination);
      return { claimed: false, current: winner?.entry ?? entry };
    },
    async markPosted(deliveryId, destination, idempotencyKey, httpStatus) {
      const previous = (await rows.read(deliveryId, destination))?.entry;
      await rows.replace(deliveryId, destination, { status: 'posted', idempotencyKey, starts: previous?.starts ?? 1, updatedAt: rows.stamp(), httpStatus });
    },
    async release(deliveryId, destination) {
      const current = await rows.read(deliveryId, destination);
      if (current?.entry.status !== 'posting') return;
      const { leaseUntil: _ended, ...entry } = current.entry;
      // Conditional: a worker that took over meanwhile keeps its lease.
      await rows.writeIfUnchanged(deliveryId, destination, { ...entry, updatedAt: rows.stamp() }, current.etag);
    },
    async markSuppressed(deliveryId, destination, idempotencyKey, rule) {
      const previous = (await rows.read(deliveryId, destination))?.entry;
      await rows.replace(deliveryId, destination, { status: 'suppressed', idempotencyKey, starts: previous?.starts ?? 0, updatedAt: rows.stamp(), suppressedBy: rule });
    },
  };
}

function tablePendingLedger(client: TableClient, rows: TableRows, now: () => Date): PendingLedger {
  return {
    async markPending(findingId, destination, idempotencyKey, payload) {
      const current = await rows.read(findingId, destination);
      if (current && current.entry.status !== 'pending' && current.entry.status !== 'suppressed') return;
      if (current?.entry.status !== 'pending') {
        const entry: LedgerEntry = { status: 'pending', idempotencyKey, starts: current?.entry.starts ?? 0, updatedAt: now().toISOString() };
        // Another worker wrote first: only a 'pending' row still needs its card.
        if (!(await rows.writeIfUnchanged(findingId, destination, entry, current?.etag)) && (await rows.read(findingId, destination))?.entry.status !== 'pending') return;
      }
      // Merge keeps a claim a timer run may already have made on this row.
      await client.upsertEntity({ ...pendingKeys(findingId, destination), findingId, destination, message: payload.message, summary: payload.summary }, 'Merge');
    },
    async listPending(destination) {
      await ensureTable(client);
      const partitionKey = pendingKeys('', destination).partitionKey;
      const entries: PendingEntry[] = [];
      for await (const e of client.listEntities<PendingRow>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } })) {
        const { findingId, destination: dest, message, summary } = e;
        entries.push({ findingId, destination: dest, message, summary, ...(e.claimedBy ? { claimedBy: e.claimedBy } : {}), ...(e.failures ? { failures: Number(e.failures) } : {}) });
      }
      return entries;
    },
    async claimPending(findingId, destination, deliveryId) {
      await client.updateEntity({ ...pendingKeys(findingId, destination), claimedBy: deliveryId }, 'Merge');
    },
    async settlePending(findingId, destination, deliveryId, idempotencyKey, httpStatus) {
      const starts = (await rows.read(findingId, destination))?.entry.starts ?? 1;
      const deliveredIn = deliveryId !== findingId ? { deliveredIn: deliveryId } : {};
      await rows.replace(findingId, destination, { status: 'posted', idempotencyKey, starts, updatedAt: rows.stamp(), httpStatus, ...deliveredIn });
      await rows.deletePending(findingId, destination);
    },
    async recordPendingFailure(findingId, destination) {
      const k = pendingKeys(findingId, destination);
      const e = await client.getEntity<PendingRow>(k.partitionKey, k.rowKey);
      const failures = Number(e.failures ?? 0) + 1;
      await client.updateEntity({ ...k, failures }, 'Merge', { etag: e.etag });
      return failures;
    },
    async poisonPending(findingId, destination, idempotencyKey, error) {
      const starts = (await rows.read(findingId, destination))?.entry.starts ?? 1;
      await rows.replace(findingId, destination, { status: 'poisoned', idempotencyKey, starts, updatedAt: rows.stamp(), error });
      await rows.deletePending(findingId, destination);
    },
    dropPending: (findingId, destination) => rows.deletePending(findingId, destination),
  };
}

function postingEntry(idempotencyKey: string, previous: LedgerEntry | undefined, at: Date, leaseMs: number | undefined): LedgerEntry {
  return {
    status: 'posting',
    idempotencyKey,
    starts: (previous?.starts ?? 0) + 1,
    updatedAt: at.toISOString(),
    ...(leaseMs !== undefined ? { leaseUntil: new Date(at.getTime() + leaseMs).toISOString() } : {}),
  };
}

function pendingKeys(findingId: string, destination: string) {
  return { partitionKey: tableKey(`pending-${destination}`), rowKey: tableKey(findingId) };
}

/** The same contract in memory, for the CLI without storage and for unit tests (one event loop: every check-then-write is atomic). */
export function memoryLedger(now: () => Date = () => new Date()): DeliveryLedger & PendingLedger & { entries: Map<string, LedgerEntry>; pending: Map<string, PendingEntry> } {
  const entries = new Map<string, LedgerEntry>();
  const pending = new Map<string, PendingEntry>();
  return { entries, pending, ...memoryDeliveryLedger(entries, now), ...memoryPendingLedger(entries, pending, now) };
}

const memoryKey = (d: string, dest: string) => `${d}\u0000${dest}`;

function memoryDeliveryLedger(entries: Map<string, LedgerEntry>, now: () => Date): DeliveryLedger {
  const key = memoryKey;
  const stamp = () => now().toISOString();
  return {
    get: async (d, dest) => entries.get(key(d, dest)),
    async markPosting(d, dest, idempotencyKey, leaseMs) {
      const current = entries.get(key(d, dest));
      const at = now();
      if (current && !claimable(current, at)) return { claimed: false, current };
      const entry = postingEntry(idempotencyKey, current, at, leaseMs);
      entries.set(key(d, dest), entry);
      return { claimed: true, entry, ...(current ? { previous: current } : {}) };
    },
    async markPosted(d, dest, idempotencyKey, httpStatus) {
      entries.set(key(d, dest), { status: 'posted', idempotencyKey, starts: entries.get(key(d, dest))?.starts ?? 1, updatedAt: stamp(), httpStatus });
    },
    async release(d, dest) {
      const current = entries.get(key(d, dest));
      if (current?.status !== 'posting') return;
      const { leaseUntil: _ended, ...entry } = current;
      entries.set(key(d, dest), { ...entry, updatedAt: stamp() });
    },
    async markSuppressed(d, dest, idempotencyKey, rule) {
      entries.set(key(d, dest), { status: 'suppressed', idempotencyKey, starts: entries.get(key(d, dest))?.starts ?? 0, updatedAt: stamp(), suppressedBy: rule });
    },
  };
}

function memoryPendingLedger(entries: Map<string, LedgerEntry>, pending: Map<string, PendingEntry>, now: () => Date): PendingLedger {
  const key = memoryKey;
  const stamp = () => now().toISOString();
  return {
    async markPending(findingId, destination, idempotencyKey, payload) {
      const current = entries.get(key(findingId, destination));
      if (current && current.status !== 'pending' && current.status !== 'suppressed') return;
      entries.set(key(findingId, destination), { status: 'pending', idempotencyKey, starts: current?.starts ?? 0, updatedAt: stamp() });
      pending.set(key(findingId, destination), { ...pending.get(key(findingId, destination)), findingId, destination, ...payload });
    },
    listPending: async (destination) => [...pending.values()].filter((e) => e.destination === destination).map((e) => ({ ...e })),
    async claimPending(findingId, destination, deliveryId) {
      const e = pending.get(key(findingId, destination));
      if (!e) throw new Error(`no pending ${destination} entry for ${findingId}`);
      e.claimedBy = deliveryId;
    },
    async settlePending(findingId, destination, deliveryId, idempotencyKey, httpStatus) {
      const starts = entries.get(key(findingId, destination))?.starts ?? 1;
      entries.set(key(findingId, destination), { status: 'posted', idempotencyKey, starts, updatedAt: stamp(), httpStatus, ...(deliveryId !== findingId ? { deliveredIn: deliveryId } : {}) });
      pending.delete(key(findingId, destination));
    },
    async recordPendingFailure(findingId, destination) {
      const e = pending.get(key(findingId, destination));
      if (!e) throw new Error(`no pending ${destination} entry for ${findingId}`);
      e.failures = (e.failures ?? 0) + 1;
      return e.failures;
    },
    async poisonPending(findingId, destination, idempotencyKey, error) {
      const starts = entries.get(key(findingId, destination))?.starts ?? 1;
      entries.set(key(findingId, destination), { status: 'poisoned', idempotencyKey, starts, updatedAt: stamp(), error });
      pending.delete(key(findingId, destination));
    },
    dropPending: async (findingId, destination) => void pending.delete(key(findingId, destination)),
  };
}
