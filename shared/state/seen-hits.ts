import { type TableClient, type TransactionAction, odata } from '@azure/data-tables';
import { mapLimit } from './limit.js';
import { ensureTable, statusOf, tableKey } from './storage.js';

/**
 * Hits already put on the "hits" queue, by detection and hit key, each with an expiry
 * (SEEN_HIT_TTL). A hunt window overlaps the previous one, so the same row comes back; this is
 * what keeps it from being queued twice. An expired entry counts as unseen and is purged lazily.
 */
export interface SeenHitStore {
  /** The keys (of those given) not seen, or seen but expired at `now`. Order kept. */
  unseen(detectionId: string, keys: readonly string[], now: Date): Promise<string[]>;
  markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void>;
  /** Deletes up to `max` expired entries of a detection; returns how many. */
  purgeExpired(detectionId: string, now: Date, max: number): Promise<number>;
}

export const SEEN_HITS_TABLE = 'seenhits';

interface SeenEntity {
  partitionKey: string;
  rowKey: string;
  key: string;
  seenAt: Date;
  expiresAt: Date;
}

const READ_CONCURRENCY = 16;
const TRANSACTION_SIZE = 100; // Table Storage's limit per entity group transaction

export class TableSeenHits implements SeenHitStore {
  constructor(
    private readonly table: TableClient,
    private readonly scope: string,
  ) {}

  private partition(detectionId: string): string {
    return tableKey(`${this.scope}|${detectionId}`);
  }

  async unseen(detectionId: string, keys: readonly string[], now: Date): Promise<string[]> {
    await ensureTable(this.table);
    const pk = this.partition(detectionId);
    const seen = await mapLimit(keys, READ_CONCURRENCY, async (key) => {
      try {
        const e = await this.table.getEntity<SeenEntity>(pk, tableKey(key), { queryOptions: { select: ['expiresAt'] } });
        return new Date(e.expiresAt).getTime() > now.getTime();
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw err;
      }
    });
    return keys.filter((_, i) => !seen[i]);
  }

  async markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await ensureTable(this.table);
    const pk = this.partition(detectionId);
    const expiresAt = new Date(now.getTime() + ttlMs);
    const actions: TransactionAction[] = [...new Set(keys)].map((key) => [
      'upsert',
      { partitionKey: pk, rowKey: tableKey(key), key, seenAt: now, expiresAt } satisfies SeenEntity,
      'Replace',
    ]);
    for (let i = 0; i < actions.length; i += TRANSACTION_SIZE) {
      await this.table.submitTransaction(actions.slice(i, i + TRANSACTION_SIZE));
    }
  }

  async purgeExpired(detectionId: string, now: Date, max: number): Promise<number> {
    await ensureTable(this.table);
    const pk = this.partition(detectionId);
    const expired: TransactionAction[] = [];
    const pages = this.table
      .listEntities<SeenEntity>({ queryOptions: { filter: odata`PartitionKey eq ${pk} and expiresAt lt ${now}`, select: ['rowKey'] } })
      .byPage({ maxPageSize: Math.min(max, 1000) });
    for await (const page of pages) {
      for (const e of page) if (expired.length < max) expired.push(['delete', { partitionKey: pk, rowKey: e.rowKey }]);
      if (expired.length >= max) break;
    }
    for (let i = 0; i < expired.length; i += TRANSACTION_SIZE) {
      await this.table.submitTransaction(expired.slice(i, i + TRANSACTION_SIZE));
    }
    return expired.length;
  }
}

/** In-memory seen hits for the CLI without STATE_STORAGE_CONNECTION, and for tests. */
export class MemorySeenHits implements SeenHitStore {
  /** detection id → hit key → expiry (ms). */
  private readonly entries = new Map<string, Map<string, number>>();

  private of(detectionId: string): Map<string, number> {
    let m = this.entries.get(detectionId);
    if (!m) this.entries.set(detectionId, (m = new Map()));
    return m;
  }

  async unseen(detectionId: string, keys: readonly string[], now: Date): Promise<string[]> {
    const m = this.of(detectionId);
    const t = now.getTime();
    return keys.filter((k) => (m.get(k) ?? 0) <= t);
  }

  async markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void> {
    const m = this.of(detectionId);
    const expires = now.getTime() + ttlMs;
    for (const k of keys) m.set(k, expires);
  }

  async purgeExpired(detectionId: string, now: Date, max: number): Promise<number> {
    const m = this.of(detectionId);
    let purged = 0;
    for (const [k, expires] of m) {
      if (purged >= max) break;
      if (expires <= now.getTime()) {
        m.delete(k);
        purged++;
      }
    }
    return purged;
  }
}
