import type { QueueClient } from '@azure/storage-queue';
import { PayloadTooLargeError } from '../errors.js';
import type { Hit, Row } from '../model.js';
import { mapLimit } from './limit.js';
import { MAX_QUEUE_MESSAGE_BYTES, encodeQueueMessage, ensureQueue } from './storage.js';

/**
 * Where new hits go. The timer functions put each hit on the "hits" queue as one message: the
 * base64 of the Hit's JSON, which is what the Functions queue trigger decodes by default
 * (host.json queues.messageEncoding = base64), so the consumer receives the Hit object.
 */
export interface HitSink {
  /** Resolves once every hit is durably accepted; rejects if any was not (some may have been). */
  send(hits: readonly Hit[]): Promise<void>;
}

const SEND_CONCURRENCY = 16;

export class QueueHitSink implements HitSink {
  constructor(private readonly queue: QueueClient) {}

  async send(hits: readonly Hit[]): Promise<void> {
    if (hits.length === 0) return;
    await ensureQueue(this.queue);
    // messageTimeToLive -1: a hit never silently expires while the consumer is down.
    await mapLimit(hits, SEND_CONCURRENCY, (hit) => this.queue.sendMessage(hitMessage(hit), { messageTimeToLive: -1 }));
  }
}

/** Collects hits in memory (the CLI prints them; tests read them). */
export class MemoryHitSink implements HitSink {
  readonly hits: Hit[] = [];
  async send(hits: readonly Hit[]): Promise<void> {
    for (const h of hits) this.hits.push(h); // no spread: a slice can hold 500,000 hits
  }
}

/**
 * The queue message for a hit. A row with huge cells (a long AdditionalExtensions) could push the
 * message over the queue's limit; then long text cells are cut, step by step, and marked, rather
 * than losing the hit.
 */
export function hitMessage(hit: Hit): string {
  let message = encodeQueueMessage(hit);
  for (const limit of [4_096, 1_024, 256]) {
    if (message.length <= MAX_QUEUE_MESSAGE_BYTES) return message;
    message = encodeQueueMessage({ ...hit, row: cutLongCells(hit.row, limit) });
  }
  if (message.length <= MAX_QUEUE_MESSAGE_BYTES) return message;
  throw new PayloadTooLargeError(MAX_QUEUE_MESSAGE_BYTES, message.length);
}

function cutLongCells(row: Row, limit: number): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === 'string' && v.length > limit ? `${v.slice(0, limit)}…[cut from ${v.length} chars]` : v;
  }
  return out;
}
