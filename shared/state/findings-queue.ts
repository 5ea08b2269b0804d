import type { QueueClient } from '@azure/storage-queue';
import type { Finding } from '../model.js';
import { type DeadLetter, deadLetterFor, putDeadLetters, shrinkToFit } from './queue-message.js';
import { decodeQueueMessage } from './queue-encoding.js';
import { ensureQueue } from './storage.js';

/**
 * Puts a finding on the "findings" queue for delivery, shrunk to fit a queue message by the one
 * shrinker (shared/state/queue-message.ts). A finding that cannot fit even then goes to the
 * dead-letter queue (when given) and is returned, for the caller to log; it never throws for size.
 */
export async function enqueueFinding(queue: QueueClient, finding: Finding, deadLetters?: QueueClient): Promise<DeadLetter | undefined> {
  const shrunk = shrinkToFit(finding);
  if (!shrunk.ok) {
    const dead = deadLetterFor('findings', finding, shrunk.bytes, new Date());
    if (deadLetters) await putDeadLetters(deadLetters, [dead]);
    return dead;
  }
  await (await ensureQueue(queue)).sendMessage(shrunk.text);
  return undefined;
}

/** The finding as it would travel on the queue (long text cut, marked); unchanged when it fits. */
export function fitForQueue(finding: Finding): Finding {
  const shrunk = shrinkToFit(finding);
  if (!shrunk.ok) throw new Error(`finding ${finding.id} does not fit a queue message (${shrunk.bytes} bytes)`);
  return shrunk.cut ? (decodeQueueMessage(shrunk.text) as Finding) : finding;
}
