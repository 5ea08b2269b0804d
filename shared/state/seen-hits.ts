import { type TableClient, type TransactionAction, odata } from '@azure/data-tables';
import { ensureTable, tableKey } from './storage.js';

/**
 * Hits already put on the "hits" queue, by detection and hit key, each with an expiry
 * (SEEN_HIT_TTL). A hunt window overlaps the previous one, so the same row comes back; this is
 * what keeps it from being queued twice. An expired entry counts as unseen and is purged lazily.
 *
 * `since` bounds what a check must look at: a row of a slice [start, end) (by ingestion time) can
 * only have been marked by a run that ran after it was ingested, so after `start`; the hunt passes
 * the slice start less a margin for clock skew, and the check reads only marks made since then.
 */
export interface SeenHitStore {
  /** The keys (of those given) not seen (since `since`, when given), or seen but expired at `now`. Order kept. */
  unseen(detectionId: string, keys: readonly string[], now: Date, since?: Date): Promise<string[]>;
  markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void>;
  /** Deletes up to `max` expired entries of a detection; returns how many. */
  purgeExpired(detectionId: string, now: Date, max: number): Promise<number>;
}

export const SEEN_HITS_TABLE = 'seenhits';

/**
 * One entity holds the keys one markSeen call marked together (a JSON array of up to
 * KEYS_PER_ENTITY_CHARS characters: Table Storage string properties hold 64 KiB of UTF-16), so a
 * slice's marks are a few entities in one transaction and a slice's check is one query. Entities
 * of the earlier layout (one per key, in `key`) are still read.
 */
interface SeenEntity {
  partitionKey: string;
  rowKey: string;
  keys?: string;
  key?: string;
  seenAt: Date;
  expiresAt: Date;
}

const KEYS_PER_ENTITY_CHARS = 30_000;
const TRANSACTION_SIZE = 100; // Table Storage's limit per entity group transaction
let sequence = 0;

export class TableSeenHits implements SeenHitStore {
  constructor(
    private readonly table: TableClient,
    private readonly scope: string,
  ) {}

  private partition(detectionId: string): string {
    return tableKey(`${this.scope}|${detectionId}`);
  }

  /** One query (paged) for the marks of the detection still alive, made since `since`. */
  async unseen(detectionId: string, keys: readonly string[], now: Date, since?: Date): Promise<string[]> {
    if (keys.length === 0) return [];
    await ensureTable(this.table);
    const pk = this.partition(detectionId);
    const filter = since
      ? odata`PartitionKey eq ${pk} and expiresAt gt ${now} and seenAt ge ${since}`
      : odata`PartitionKey eq ${pk} and expiresAt gt ${now}`;
    const wanted = new Set(keys);
    const seen = new Set<string>();
    for await (const e of this.table.listEntities<SeenEntity>({ queryOptions: { filter, select: ['keys', 'key'] } })) {
      for (const k of keysOf(e)) if (wanted.has(k)) seen.add(k);
    }
    return seen.size === 0 ? [...keys] : keys.filter((k) => !seen.has(k));
  }

  async markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await ensureTable(this.table);
    const pk = this.partition(detectionId);
    const expiresAt = new Date(now.getTime() + ttlMs);
    const actions: TransactionAction[] = groupKeys([...new Set(keys)]).map((group) => [
      'upsert',
      { partitionKey: pk, rowKey: `${String(now.getTime()).padStart(15, '0')}-${process.pid}-${++sequence}`, keys: JSON.stringify(group), seenAt: now, expiresAt } satisfies SeenEntity,
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

/** Keys cut into groups whose JSON stays under KEYS_PER_ENTITY_CHARS. */
function groupKeys(keys: readonly string[]): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let chars = 2;
  for (const k of keys) {
    const size = JSON.stringify(k).length + 1;
    if (group.length > 0 && chars + size > KEYS_PER_ENTITY_CHARS) {
      groups.push(group);
      group = [];
      chars = 2;
    }
    group.push(k);
    chars += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function keysOf(e: Pick<SeenEntity, 'keys' | 'key'>): string[] {
  if (typeof e.key === 'string') return [e.key];
  if (typeof e.keys !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(e.keys);
    return Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

/** In-memory seen hits for the CLI without STATE_STORAGE_CONNECTION, and for tests. */
export class MemorySeenHits implements SeenHitStore {
  /** detection id → hit key → [expiry, marked at] (ms). */
  private readonly entries = new Map<string, Map<string, [number, number]>>();

  private of(detectionId: string): Map<string, [number, number]> {
    let m = this.entries.get(detectionId);
    if (!m) this.entries.set(detectionId, (m = new Map()));
    return m;
  }

  async unseen(detectionId: string, keys: readonly string[], now: Date, since?: Date): Promise<string[]> {
    const m = this.of(detectionId);
    const t = now.getTime();
    const from = since?.getTime() ?? Number.NEGATIVE_INFINITY;
    return keys.filter((k) => {
      const e = m.get(k);
      return !e || e[0] <= t || e[1] < from;
    });
  }

  async markSeen(detectionId: string, keys: readonly string[], now: Date, ttlMs: number): Promise<void> {
    const m = this.of(detectionId);
    const entry: [number, number] = [now.getTime() + ttlMs, now.getTime()];
    for (const k of keys) m.set(k, entry);
  }

  async purgeExpired(detectionId: string, now: Date, max: number): Promise<number> {
    const m = this.of(detectionId);
    let purged = 0;
    for (const [k, [expires]] of m) {
      if (purged >= max) break;
      if (expires <= now.getTime()) {
        m.delete(k);
        purged++;
      }
    }
    return purged;
  }
}
