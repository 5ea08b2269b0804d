import { constants, gunzipSync, gzipSync } from 'node:zlib';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { ValidationError, problemsFromZod } from '../errors.js';
import type { Hit } from '../model.js';
import { mapLimit } from './limit.js';
import { type DeadLetter, deadLetterFor, putDeadLetters, shrinkToFit } from './queue-message.js';
import { decodeQueueMessage } from './queue-encoding.js';
import { threatAggregateSchema } from '../threats/threat-schema.js';
import { MAX_QUEUE_MESSAGE_BYTES, ensureQueue } from './storage.js';

/**
 * Where new hits go. The timer functions put them on the "hits" queue, grouped and compressed:
 * one message is `{"hitsGzip": "<base64 of the gzip of [Hit, …]>"}` (up to MAX_HITS_PER_MESSAGE,
 * under the queue's 64 KiB), base64 of that JSON, which is what the Functions queue trigger decodes
 * by default (host.json queues.messageEncoding = base64) before handing the handler the object.
 * Why compressed: a queue send costs about the same whatever its size (measured on Azurite: 100
 * sends of 6 KB or of 60 KB both ~0.6 s), and the hits of one detection repeat their column names
 * and values, so gzip packs ~15× more hits per send. A hit that only fits uncompressed (a
 * compressed group of one came out larger) goes as `{"hits": [Hit]}`. The consumer reads all three
 * shapes: compressed group, plain group and a bare Hit (hitsOfMessage, parseHitMessages).
 *
 * Steps, each its own function so a message can carry any group of hits:
 *   fitHits   — each hit shrunk to fit a message on its own (shared/state/queue-message.ts), or a dead letter;
 *   packHits  — the fitted hits cut in order into groups of MAX_HITS_PER_MESSAGE, each compressed,
 *               a group too large for one message halved until it fits;
 *   send      — the messages sent, then the dead letters put on "hits-deadletter".
 */
export interface HitSink {
  /**
   * Resolves once every hit is durably accepted (queued, or dead-lettered with its reason: the
   * dead letters are returned so the caller logs them); rejects if any was not (some may have been).
   */
  send(hits: readonly Hit[]): Promise<DeadLetter[] | void>;
}

/** One message is one enrich-hits invocation: its hits are enriched side by side (shared lookups per domain). */
export const MAX_HITS_PER_MESSAGE = 1_000;
/** What a compressed message may inflate to when read (a message is at most 64 KiB compressed). */
const MAX_INFLATED_BYTES = 32 * 1024 * 1024;
const SEND_CONCURRENCY = 16;
/** `{"hits":[` … `]}` around the hits, and a comma between two. */
const ENVELOPE_JSON = '{"hits":[]}'.length;

export interface HitBatchMessage {
  hits: Hit[];
}

export interface CompressedHitBatchMessage {
  /** base64 of the gzip of the UTF-8 JSON array of hits. */
  hitsGzip: string;
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

/** Fitted hits, in order, in compressed messages of up to maxHits under the queue's limit. */
export function packHits(fitted: readonly FittedHit[], maxHits = MAX_HITS_PER_MESSAGE): string[] {
  const messages: string[] = [];
  for (let i = 0; i < fitted.length; i += maxHits) packGroup(fitted.slice(i, i + maxHits), messages);
  return messages;
}

/** One group as one compressed message, or halved until each part fits; a lone hit that only fits plain goes plain. */
function packGroup(group: readonly FittedHit[], out: string[]): void {
  const array = `[${group.map((h) => h.json).join(',')}]`;
  // Fastest level: ~3× quicker than the default and the groups still fit (hits repeat a lot).
  const compressed = gzipSync(array, { level: constants.Z_BEST_SPEED }).toString('base64');
  const message = Buffer.from(`{"hitsGzip":"${compressed}"}`, 'utf8').toString('base64');
  if (message.length <= MAX_QUEUE_MESSAGE_BYTES) {
    out.push(message);
    return;
  }
  if (group.length === 1) {
    // fitHits made sure every hit fits a plain message alone.
    out.push(Buffer.from(`{"hits":${array}}`, 'utf8').toString('base64'));
    return;
  }
  const half = Math.ceil(group.length / 2);
  packGroup(group.slice(0, half), out);
  packGroup(group.slice(half), out);
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
    // From a timer hunt a hit stands for one threat (shared/threats/threat-sink.ts).
    threat: threatAggregateSchema.optional(),
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
  let items: unknown[];
  try {
    items = hitsOfMessage(value);
  } catch (err) {
    throw new ValidationError('invalid hits message', [{ path: 'hitsGzip', message: err instanceof Error ? err.message : String(err) }]);
  }
  const grouped = isGroup(value);
  return items.map((item, i) => {
    const parsed = hitSchema.safeParse(item);
    if (!parsed.success) throw new ValidationError('invalid hits message', problemsFromZod(parsed.error.issues, grouped ? `hits.${i}` : undefined));
    return parsed.data as unknown as Hit;
  });
}


/** Whether a decoded message is a group (compressed or plain) rather than one bare hit. */
function isGroup(decoded: unknown): boolean {
  if (!decoded || typeof decoded !== 'object' || Array.isArray(decoded)) return false;
  const d = decoded as { hits?: unknown; hitsGzip?: unknown };
  return Array.isArray(d.hits) || typeof d.hitsGzip === 'string';
}

/**
 * The hits a "hits" queue message carries: `{"hitsGzip": …}`, `{"hits": […]}` or one bare hit
 * (older messages). Throws when a compressed group does not inflate to a JSON array.
 */
export function hitsOfMessage(decoded: unknown): unknown[] {
  if (!isGroup(decoded)) return [decoded];
  const d = decoded as Partial<HitBatchMessage & CompressedHitBatchMessage>;
  if (Array.isArray(d.hits)) return d.hits;
  const text = gunzipSync(Buffer.from(d.hitsGzip as string, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8');
  const hits = JSON.parse(text) as unknown;
  if (!Array.isArray(hits)) throw new Error('hitsGzip does not hold a JSON array of hits');
  return hits;
}
