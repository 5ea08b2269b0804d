import type { TableClient } from '@azure/data-tables';
import { ensureTable, statusOf } from './storage.js';

/** Hits already turned into findings (the enrich-hits idempotency ledger). */
export { ENRICH_LEDGER_TABLE } from './queue-encoding.js';

/**
 * The enrich ledger: a row (PartitionKey = first two hex digits of the finding id, RowKey = finding
 * id) is written after the finding is enqueued; a redelivered hit whose finding is in the ledger is
 * acknowledged without enqueuing again. A crash between enqueue and ledger write can still enqueue
 * twice; the finding id is stable, so the delivery stage drops the repeat.
 */
export class EnrichLedger {
  private constructor(private readonly table: TableClient) {}

  /** The ledger over `table`, created if it does not exist yet. */
  static async open(table: TableClient): Promise<EnrichLedger> {
    return new EnrichLedger(await ensureTable(table));
  }

  async has(findingId: string): Promise<boolean> {
    try {
      await this.table.getEntity(findingId.slice(0, 2), findingId);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async record(findingId: string, detectionId: string, at: Date): Promise<void> {
    await this.table.upsertEntity({ partitionKey: findingId.slice(0, 2), rowKey: findingId, detectionId, enqueuedAt: at }, 'Replace');
  }
}
