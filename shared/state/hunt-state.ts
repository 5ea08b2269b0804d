import type { TableClient } from '@azure/data-tables';
import { ensureTable, statusOf, tableKey } from './storage.js';

/**
 * Per-detection hunt state: the watermark (every row ingested before it has been handled) and
 * the detection's health (a query the service rejected makes it unhealthy until a run succeeds).
 *
 * A scope separates runners: the timer functions use 'functions'; the CLI uses 'cli', so an
 * ad-hoc `certsoar hunt` on a laptop never moves the watermark the functions rely on.
 *
 * Watermark writes are conditional (ETag): if another runner moved it since we read it, the write
 * fails with WatermarkConflictError instead of moving it backwards.
 */

export interface Watermark {
  value: Date;
  /** Opaque version for the conditional write. */
  version?: string;
}

export interface DetectionHealth {
  healthy: boolean;
  /** Why it is unhealthy (the service's message), without secrets. */
  reason?: string;
  checkedAt: string;
  lastSuccessAt?: string;
}

export interface HuntStateStore {
  getWatermark(detectionId: string): Promise<Watermark | undefined>;
  /** Moves the watermark; `previous` is what getWatermark returned (undefined when none was stored). */
  setWatermark(detectionId: string, value: Date, previous: Watermark | undefined): Promise<Watermark>;
  getHealth(detectionId: string): Promise<DetectionHealth | undefined>;
  setHealth(detectionId: string, health: DetectionHealth): Promise<void>;
}

export class WatermarkConflictError extends Error {
  constructor(readonly detectionId: string) {
    super(`${detectionId}: the watermark was moved by another runner; this run stops without moving it`);
    this.name = 'WatermarkConflictError';
  }
}

export const HUNT_STATE_TABLE = 'huntstate';

interface WatermarkEntity {
  partitionKey: string;
  rowKey: string;
  detectionId: string;
  watermark: string;
}

interface HealthEntity {
  partitionKey: string;
  rowKey: string;
  detectionId: string;
  healthy: boolean;
  reason?: string;
  checkedAt: string;
  lastSuccessAt?: string;
}

export class TableHuntState implements HuntStateStore {
  constructor(
    private readonly table: TableClient,
    private readonly scope: string,
  ) {}

  private partition(detectionId: string): string {
    return tableKey(`${this.scope}|${detectionId}`);
  }

  async getWatermark(detectionId: string): Promise<Watermark | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<WatermarkEntity>(this.partition(detectionId), 'watermark');
      return { value: new Date(e.watermark), version: e.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async setWatermark(detectionId: string, value: Date, previous: Watermark | undefined): Promise<Watermark> {
    await ensureTable(this.table);
    const entity: WatermarkEntity = { partitionKey: this.partition(detectionId), rowKey: 'watermark', detectionId, watermark: value.toISOString() };
    try {
      const res = previous?.version
        ? await this.table.updateEntity(entity, 'Replace', { etag: previous.version })
        : await this.table.createEntity(entity);
      return { value, ...(res.etag ? { version: res.etag } : {}) };
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 409) throw new WatermarkConflictError(detectionId);
      throw err;
    }
  }

  async getHealth(detectionId: string): Promise<DetectionHealth | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<HealthEntity>(this.partition(detectionId), 'health');
      return {
        healthy: e.healthy,
        checkedAt: e.checkedAt,
        ...(e.reason ? { reason: e.reason } : {}),
        ...(e.lastSuccessAt ? { lastSuccessAt: e.lastSuccessAt } : {}),
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async setHealth(detectionId: string, health: DetectionHealth): Promise<void> {
    await ensureTable(this.table);
    const entity: HealthEntity = {
      partitionKey: this.partition(detectionId),
      rowKey: 'health',
      detectionId,
      healthy: health.healthy,
      checkedAt: health.checkedAt,
      // Table properties are limited to 64 KiB; a reason is a one-line message.
      ...(health.reason ? { reason: health.reason.slice(0, 4_000) } : {}),
      ...(health.lastSuccessAt ? { lastSuccessAt: health.lastSuccessAt } : {}),
    };
    await this.table.upsertEntity(entity, 'Replace');
  }
}

/** In-memory state for the CLI without STATE_STORAGE_CONNECTION, and for tests. */
export class MemoryHuntState implements HuntStateStore {
  private readonly watermarks = new Map<string, Watermark & { version: string }>();
  private readonly health = new Map<string, DetectionHealth>();
  private counter = 0;

  async getWatermark(detectionId: string): Promise<Watermark | undefined> {
    const w = this.watermarks.get(detectionId);
    return w ? { ...w } : undefined;
  }

  async setWatermark(detectionId: string, value: Date, previous: Watermark | undefined): Promise<Watermark> {
    const current = this.watermarks.get(detectionId);
    if ((current?.version ?? undefined) !== (previous?.version ?? undefined)) throw new WatermarkConflictError(detectionId);
    const next = { value, version: String(++this.counter) };
    this.watermarks.set(detectionId, next);
    return { ...next };
  }

  async getHealth(detectionId: string): Promise<DetectionHealth | undefined> {
    const h = this.health.get(detectionId);
    return h ? { ...h } : undefined;
  }

  async setHealth(detectionId: string, health: DetectionHealth): Promise<void> {
    this.health.set(detectionId, { ...health });
  }
}
