/**
 * Queue names and the message encoding, without the storage SDKs: function files need the names to
 * register their triggers and the decoder to read a message, before (or without) any client.
 */

/** The queue names stages exchange messages on. */
export const QUEUE_NAMES = { hits: 'hits', findings: 'findings' } as const;

/** Hits already turned into findings (the enrich-hits function's idempotency ledger). */
export const ENRICH_LEDGER_TABLE = 'enrichledger';

/** Azure Storage Queues accept messages up to 64 KiB (the encoded text). */
export const MAX_QUEUE_MESSAGE_BYTES = 65_536;

/**
 * Queue messages in the encoding the Functions queue trigger expects by default (base64 of the
 * UTF-8 JSON; host.json `extensions.queues.messageEncoding` defaults to base64).
 */
export function encodeQueueMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Inverse of encodeQueueMessage; also accepts plain JSON (messages written by other tools). */
export function decodeQueueMessage(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return JSON.parse(trimmed);
  return JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
}

