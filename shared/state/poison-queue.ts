import type { QueueClient } from '@azure/storage-queue';
import { redact } from '../redact.js';
import { encodeQueueMessage } from './queue-encoding.js';

/**
 * Where deliveries that cannot complete go, with their reason: the deliver function and the
 * teams-digest timer alike. No storage SDK import here: function files load this at registration.
 */
export const FINDINGS_POISON_QUEUE = 'findings-poison';

export interface PoisonMessage {
  /** Redacted. */
  reason: string;
  failedAt: string;
  /** Queue deliveries (deliver) or failed timer runs (teams-digest) before giving up. */
  dequeueCount: number;
  failures: Array<{ destination: string; error: string; permanent: boolean }>;
  finding?: unknown;
  /** teams-digest: the delivery (finding id or digest id) and the findings it carried. */
  deliveryId?: string;
  findingIds?: string[];
}

/** Writes one poison message; every text in it is redacted here, whatever the caller passed. */
export async function sendToPoison(queue: QueueClient, message: Omit<PoisonMessage, 'failedAt'>, now: Date = new Date()): Promise<PoisonMessage> {
  const body: PoisonMessage = {
    ...message,
    reason: redact(message.reason),
    failures: message.failures.map((f) => ({ ...f, error: redact(f.error) })),
    failedAt: now.toISOString(),
  };
  // A poison message is rare: creating the queue on each is simpler than remembering it.
  await queue.createIfNotExists();
  await queue.sendMessage(encodeQueueMessage(body));
  return body;
}
