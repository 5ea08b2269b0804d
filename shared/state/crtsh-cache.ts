import { gunzipSync, gzipSync } from 'node:zlib';
import type { TableClient } from '@azure/data-tables';
import { errorMessage } from '../redact.js';
import { ensureTable } from './storage.js';

/**
 * crt.sh answers cached in Azure Table Storage, shared by every instance. Layout: table
 * `crtshcache`, PartitionKey = kind ("history", "sha256", "sha1"), RowKey = the domain or the
 * fingerprint (both already table-safe), properties `v`, `expiresAt`, `chunks`, `c0`…`cN`.
 * The value is gzipped JSON split into binary properties of at most 60,000 bytes each, because
 * one property holds at most 64 KiB and an entity at most 1 MiB; values that would not fit in
 * 15 chunks are not stored (the in-memory LRU still has them).
 * A storage failure is a cache miss, never an enrichment failure.
 */
export const CRTSH_CACHE_TABLE = 'crtshcache';
const CHUNK_BYTES = 60_000;
const MAX_CHUNKS = 15;

export type CacheKind = 'history' | 'sha256' | 'sha1';

export interface CtCacheStore {
  get(kind: CacheKind, key: string): Promise<unknown>;
  /** Resolves false when the value was not stored (too large or storage failed). */
  set(kind: CacheKind, key: string, value: unknown, ttlMs: number): Promise<boolean>;
}

export class TableCtCache implements CtCacheStore {
  private ready: Promise<TableClient> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date = () => new Date(),
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Creates the table once, however many lookups start at the same moment. */
  private client(): Promise<TableClient> {
    this.ready ??= ensureTable(this.table).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async get(kind: CacheKind, key: string): Promise<unknown> {
    try {
      const client = await this.client();
      const entity = await client.getEntity<Record<string, unknown>>(kind, key);
      const expiresAt = entity.expiresAt instanceof Date ? entity.expiresAt.getTime() : Date.parse(String(entity.expiresAt));
      if (!(expiresAt > this.now().getTime())) return undefined;
      const chunks = Number(entity.chunks);
      const parts: Buffer[] = [];
      for (let i = 0; i < chunks; i++) {
        const part = entity[`c${i}`];
        if (!(part instanceof Uint8Array)) return undefined;
        parts.push(Buffer.from(part));
      }
      return JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')) as unknown;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) this.onError(`crt.sh cache read failed: ${errorMessage(err)}`);
      return undefined;
    }
  }

  async set(kind: CacheKind, key: string, value: unknown, ttlMs: number): Promise<boolean> {
    const packed = gzipSync(Buffer.from(JSON.stringify(value), 'utf8'));
    const chunks = Math.ceil(packed.length / CHUNK_BYTES) || 1;
    if (chunks > MAX_CHUNKS) return false;
    const entity: Record<string, unknown> = {
      partitionKey: kind,
      rowKey: key,
      v: 1,
      expiresAt: new Date(this.now().getTime() + ttlMs),
      chunks,
    };
    for (let i = 0; i < chunks; i++) entity[`c${i}`] = new Uint8Array(packed.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    try {
      const client = await this.client();
      await client.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
      return true;
    } catch (err) {
      this.onError(`crt.sh cache write failed: ${errorMessage(err)}`);
      return false;
    }
  }
}
