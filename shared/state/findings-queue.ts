import type { QueueClient } from '@azure/storage-queue';
import type { Finding } from '../model.js';
import { MAX_QUEUE_MESSAGE_BYTES, encodeQueueMessage, ensureQueue } from './storage.js';

/** Puts a finding on the "findings" queue for delivery, shrunk to fit a queue message. */
export async function enqueueFinding(queue: QueueClient, finding: Finding): Promise<void> {
  await (await ensureQueue(queue)).sendMessage(encodeQueueMessage(fitForQueue(finding)));
}

/** Keeps a finding under the queue's message size by shortening, then dropping, the raw row. */
export function fitForQueue(finding: Finding): Finding {
  if (encodeQueueMessage(finding).length <= MAX_QUEUE_MESSAGE_BYTES) return finding;
  const shortened: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(finding.hit.row)) shortened[k] = typeof v === 'string' && v.length > 256 ? `${v.slice(0, 256)}…` : v;
  const smaller = { ...finding, hit: { ...finding.hit, row: shortened } };
  if (encodeQueueMessage(smaller).length <= MAX_QUEUE_MESSAGE_BYTES) return smaller;
  return { ...finding, hit: { ...finding.hit, row: { _note: 'row dropped: the finding exceeded the queue message size' } } };
}
