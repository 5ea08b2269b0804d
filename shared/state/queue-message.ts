import type { QueueClient } from '@azure/storage-queue';
import { MAX_QUEUE_MESSAGE_BYTES, encodeQueueMessage, ensureQueue } from './storage.js';

/**
 * The one shrinker for every queue message certsoar writes (hits, findings). Text an adversary
 * controls (a certificate subject, a command line) can be repeated across a message (row, indicators,
 * certificate, reasons), so shrinking cuts long text everywhere, in steps, marking each cut; what
 * still does not fit ends as a dead letter with its reason, so one hostile event can never stop a
 * hunt or a delivery: the caller moves on (the watermark passes it) and the dead letter is visible
 * (logged, and kept on the "<queue>-deadletter" queue; see the README, "Dead letters").
 */

/** Strings longer than each limit are cut, one step after the other; then arrays are cut too. */
const TEXT_LIMITS = [4_096, 1_024, 256, 64] as const;
const LAST_TEXT_LIMIT = 64;
const ARRAY_LIMIT = 20;
/** Identifiers are never cut (they are short: hashes and detection ids). */
const KEEP = new Set(['id', 'key', 'detectionId', 'time']);
const EXCERPT_CHARS = 2_000;

export type Shrunk = { ok: true; text: string; cut: boolean } | { ok: false; bytes: number };

/** The encoded message for `value`, shrunk until it fits the queue's limit, or the size it would need. */
export function shrinkToFit(value: unknown, maxBytes = MAX_QUEUE_MESSAGE_BYTES): Shrunk {
  let text = encodeQueueMessage(value);
  if (text.length <= maxBytes) return { ok: true, text, cut: false };
  for (const limit of TEXT_LIMITS) {
    text = encodeQueueMessage(cutDeep(value, limit, Number.POSITIVE_INFINITY));
    if (text.length <= maxBytes) return { ok: true, text, cut: true };
  }
  text = encodeQueueMessage(cutDeep(value, LAST_TEXT_LIMIT, ARRAY_LIMIT));
  if (text.length <= maxBytes) return { ok: true, text, cut: true };
  return { ok: false, bytes: text.length };
}

function cutDeep(value: unknown, textLimit: number, arrayLimit: number, depth = 0): unknown {
  if (typeof value === 'string') return value.length > textLimit ? `${value.slice(0, textLimit)}…[cut from ${value.length} chars]` : value;
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, arrayLimit).map((v) => cutDeep(v, textLimit, arrayLimit, depth + 1));
    if (value.length > arrayLimit) kept.push(`…[cut from ${value.length} items]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = KEEP.has(k) ? v : cutDeep(v, textLimit, arrayLimit, depth + 1);
  return out;
}

/** A message that could not be written, and why: what the dead-letter queue holds. */
export interface DeadLetter {
  /** The queue it was meant for ("hits", "findings"). */
  queue: string;
  reason: string;
  detectionId?: string;
  /** Hit key or finding id: enough to find the event again. */
  key?: string;
  /** Encoded size after every shrinking step. */
  bytes: number;
  /** The start of the message's JSON. */
  excerpt: string;
  at: string;
}

export function deadLetterFor(queue: string, value: unknown, bytes: number, now: Date): DeadLetter {
  const v = (value ?? {}) as { detectionId?: unknown; key?: unknown; id?: unknown; hit?: { detectionId?: unknown } };
  const detectionId = typeof v.detectionId === 'string' ? v.detectionId : typeof v.hit?.detectionId === 'string' ? v.hit.detectionId : undefined;
  const key = typeof v.key === 'string' ? v.key : typeof v.id === 'string' ? v.id : undefined;
  return {
    queue,
    reason: `does not fit a queue message (${MAX_QUEUE_MESSAGE_BYTES} bytes) even with every text cut: ${bytes} bytes`,
    ...(detectionId ? { detectionId } : {}),
    ...(key ? { key } : {}),
    bytes,
    excerpt: JSON.stringify(value).slice(0, EXCERPT_CHARS),
    at: now.toISOString(),
  };
}

/** One line for the log: which message, why; never the content. */
export function describeDeadLetter(d: DeadLetter): string {
  return `dead letter (${d.queue}${d.detectionId ? `, ${d.detectionId}` : ''}${d.key ? ` ${d.key}` : ''}): ${d.reason}`;
}

/** The dead-letter queue beside a queue: "<queue>-deadletter". */
export function deadLetterQueueName(queue: string): string {
  return `${queue}-deadletter`;
}

/** Puts dead letters on their queue (they always fit: the excerpt is bounded). */
export async function putDeadLetters(queue: QueueClient, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await ensureQueue(queue);
  for (const letter of letters) await queue.sendMessage(encodeQueueMessage(letter), { messageTimeToLive: -1 });
}
