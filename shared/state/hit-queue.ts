import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { ValidationError, problemsFromZod } from '../errors.js';
import type { Hit } from '../model.js';
import { mapLimit } from './limit.js';
import { type DeadLetter, deadLetterFor, putDeadLetters, shrinkToFit } from './queue-message.js';
import { decodeQueueMessage } from './queue-encoding.js';
import { MAX_QUEUE_MESSAGE_BYTES, ensureQueue } from './storage.js';

/**
 * Where new hits go. The timer functions put them on the "hits" queue, grouped: one message is
 * `{"hits": [Hit, …]}` (up to MAX_HITS_PER_MESSAGE, under the queue's 64 KiB), base64 of the JSON,
 * which is what the Functions queue trigger decodes by default (host.json queues.messageEncoding =
 * base64). A slice's hits thus cost a few sends instead of one per hit. The consumer reads both
 * this shape and a bare Hit (hitsOfMessage).
 *
 * Steps, each its own function so a message can carry any group of hits:
 *   fitHits   — each hit shrunk to fit a message on its own (shared/state/queue-message.ts), or a dead letter;
 *   packHits  — the fitted hits packed greedily into messages by encoded size and count;
 *   send      — the messages sent, then the dead letters put on "hits-deadletter".
 */
export interface HitSink {
  /**
   * Resolves once every hit is durably accepted (queued, or dead-lettered with its reason: the
   * dead letters are returned so the caller logs them); rejects if any was not (some may have been).
   */
  send(hits: readonly Hit[]): Promise<DeadLetter[] | void>;
}

export const MAX_HITS_PER_MESSAGE = 100;
const SEND_CONCURRENCY = 16;
/** `{"hits":[` … `]}` around the hits, and a comma between two. */
const ENVELOPE_JSON = '{"hits":[]}'.length;

export interface HitBatchMessage {
  hits: Hit[];
}

export class QueueHitSink implements HitSink {
  constructor(
    private readonly queue: QueueClient,
    /** "hits-deadletter"; without it dead letters are only returned (and logged by the hunt). */
    private readonly deadLetters?: QueueClient,
  ) {}

  async send(hits: readonly Hit[]): Promise<DeadLetter[]> {
    if (hits.length === 0) return [];
    const { fitted, dead } = fitHits(hits, new Date());
    const messages = packHits(fitted);
    await ensureQueue(this.queue);
    // messageTimeToLive -1: a hit never silently expires while the consumer is down.
    await mapLimit(messages, SEND_CONCURRENCY, (text) => this.queue.sendMessage(text, { messageTimeToLive: -1 }));
    if (this.deadLetters) await putDeadLetters(this.deadLetters, dead);
    return dead;
  }
}

/** Collects hits in memory (the CLI prints them; tests read them). */
export class MemoryHitSink implements HitSink {
  readonly hits: Hit[] = [];
  async send(hits: readonly Hit[]): Promise<void> {
    for (const h of hits) this.hits.push(h); // no spread: a slice can hold 500,000 hits
  }
}

/** A hit as JSON that fits a message by itself (shrunk if it had to be). */
export interface FittedHit {
  json: string;
}

/** Each hit's JSON, shrunk to fit a message alone; a hit that cannot fit becomes a dead letter. */
export function fitHits(hits: readonly Hit[], now: Date): { fitted: FittedHit[]; dead: DeadLetter[] } {
  const fitted: FittedHit[] = [];
  const dead: DeadLetter[] = [];
  for (const hit of hits) {
    const json = JSON.stringify(hit);
    if (fitsAlone(json)) {
      fitted.push({ json });
      continue;
    }
    // The envelope must fit around the lone hit too: ask the shrinker for that much less.
    const shrunk = shrinkToFit(hit, MAX_QUEUE_MESSAGE_BYTES - 4 * Math.ceil(ENVELOPE_JSON / 3) - 4);
    const shrunkJson = shrunk.ok ? Buffer.from(shrunk.text, 'base64').toString('utf8') : undefined;
    if (shrunkJson !== undefined && fitsAlone(shrunkJson)) fitted.push({ json: shrunkJson });
    else dead.push(deadLetterFor('hits', hit, shrunk.ok ? shrunk.text.length : shrunk.bytes, now));
  }
  return { fitted, dead };
}

/** Whether a hit's JSON fits a message by itself once wrapped and base64-encoded. */
function fitsAlone(json: string): boolean {
  return base64Length(Buffer.byteLength(json) + ENVELOPE_JSON) <= MAX_QUEUE_MESSAGE_BYTES;
}

const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);

/** Fitted hits packed in order into `{"hits":[…]}` messages under the queue's limit. */
export function packHits(fitted: readonly FittedHit[], maxHits = MAX_HITS_PER_MESSAGE): string[] {
  const messages: string[] = [];
  let group: string[] = [];
  let bytes = ENVELOPE_JSON;
  const flush = () => {
    if (group.length > 0) messages.push(Buffer.from(`{"hits":[${group.join(',')}]}`, 'utf8').toString('base64'));
    group = [];
    bytes = ENVELOPE_JSON;
  };
  for (const { json } of fitted) {
    const size = Buffer.byteLength(json) + 1;
    if (group.length >= maxHits || base64Length(bytes + size) > MAX_QUEUE_MESSAGE_BYTES) flush();
    group.push(json);
    bytes += size;
  }
  flush();
  return messages;
}

/** The single message for one hit alone (shrunk to fit), as the grouped form. */
export function hitMessage(hit: Hit): string {
  const { fitted, dead } = fitHits([hit], new Date());
  if (dead[0]) throw new Error(dead[0].reason);
  return packHits(fitted)[0] as string;
}

/** A hit as the consumer checks it at the queue boundary (the fields enrichment and scoring read). */
const hitSchema = z
  .object({
    detectionId: z.string().min(1),
    key: z.string().min(1),
    time: z.string(),
    row: z.record(z.string(), z.unknown()),
    signals: z.array(z.object({ id: z.string(), points: z.number(), reason: z.string() })),
    indicators: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
    entities: z.object({ domains: z.array(z.string()).default([]) }).loose(),
  })
  .loose();

/** The hits of a "hits" message (a group or one bare hit), each checked; names the failing hit's fields. */
export function parseHitMessages(message: unknown): Hit[] {
  let value = message;
  if (typeof message === 'string') {
    try {
      value = decodeQueueMessage(message);
    } catch {
      throw new ValidationError('invalid hits message', [{ path: '', message: 'not JSON (nor base64 JSON)' }]);
    }
  }
  const grouped = value !== null && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as { hits?: unknown }).hits);
  const items = grouped ? ((value as { hits: unknown[] }).hits) : [value];
  return items.map((item, i) => {
    const parsed = hitSchema.safeParse(item);
    if (!parsed.success) throw new ValidationError('invalid hits message', problemsFromZod(parsed.error.issues, grouped ? `hits.${i}` : undefined));
    return parsed.data as unknown as Hit;
  });
}


/** The hits a "hits" queue message carries: `{"hits": […]}` or one bare hit (older messages). */
export function hitsOfMessage(decoded: unknown): unknown[] {
  if (decoded && typeof decoded === 'object' && !Array.isArray(decoded) && Array.isArray((decoded as { hits?: unknown }).hits)) {
    return (decoded as HitBatchMessage).hits;
  }
  return [decoded];
}
