import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { ValidationError } from '../../../shared/errors.js';
import type { Hit } from '../../../shared/model.js';
import type { QueueClient } from '@azure/storage-queue';
import { QueueHitSink, fitHits, hitMessage, hitsOfMessage, packHits, parseHitMessages } from '../../../shared/state/hit-queue.js';
import type { DeadLetter } from '../../../shared/state/queue-message.js';
import { MAX_QUEUE_MESSAGE_BYTES, decodeQueueMessage, storageClients } from '../../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

function hit(key: string, row: Record<string, unknown> = { DestinationHostName: 'evil.example' }): Hit {
  return {
    detectionId: 'T1608.003',
    key,
    time: '2026-01-01T10:00:00.000Z',
    row,
    signals: [{ id: 'self_signed', points: 3, reason: 'the certificate signs itself' }],
    indicators: { IsSelfSigned: true },
    entities: { destinationHost: 'evil.example', domains: ['evil.example'] },
  };
}

async function receiveAll(queue: QueueClient): Promise<string[]> {
  const texts: string[] = [];
  for (;;) {
    const got = await queue.receiveMessages({ numberOfMessages: 32 });
    if (got.receivedMessageItems.length === 0) return texts;
    texts.push(...got.receivedMessageItems.map((m) => m.messageText));
  }
}

const queueNamed = (name: string) => storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.queue(name);

describe('QueueHitSink', () => {
  it('groups the hits into base64 JSON messages {hitsGzip: ...} (what the queue trigger decodes by default), every hit once, in order', async () => {
    const queue = queueNamed('hits-sink-test');
    const hits = Array.from({ length: 2_500 }, (_, i) => hit(`k${i}`));
    expect(await new QueueHitSink(queue).send(hits)).toEqual([]);
    const texts = await receiveAll(queue);
    expect(texts).toHaveLength(3); // 1,000 + 1,000 + 500: compressed, each group fits one message
    expect(texts.every((t) => typeof (decodeQueueMessage(t) as { hitsGzip?: unknown }).hitsGzip === 'string')).toBe(true);
    expect(texts.every((t) => /^[A-Za-z0-9+/]+=*$/.test(t) && t.length <= MAX_QUEUE_MESSAGE_BYTES)).toBe(true);
    const decoded = texts.flatMap((t) => hitsOfMessage(decodeQueueMessage(t)) as Hit[]);
    expect(decoded.map((h) => h.key).sort()).toEqual(hits.map((h) => h.key).sort());
    expect(decoded.find((h) => h.key === 'k7')).toEqual(hits[7]);
  });

  it('packs by size: large hits that do not compress share messages only as far as 64 KiB allows', () => {
    const hits = Array.from({ length: 10 }, (_, i) => hit(`big${i}`, { AdditionalExtensions: randomBytes(15_000).toString('hex') }));
    const messages = packHits(fitHits(hits, new Date()).fitted);
    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(messages.every((m) => m.length <= MAX_QUEUE_MESSAGE_BYTES)).toBe(true);
    expect(messages.flatMap((m) => hitsOfMessage(decodeQueueMessage(m)) as Hit[]).map((h) => h.key)).toEqual(hits.map((h) => h.key));
  });

  it('a hit no message can hold goes to the dead-letter queue with its reason; the others are queued', async () => {
    const queue = queueNamed('hits-dl-test');
    const deadLetters = queueNamed('hits-dl-test-deadletter');
    // 5,000 distinct indicators: nothing to cut that would make it fit.
    const monster = { ...hit('monster'), indicators: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`indicator${i}`, i])) };
    const dead = await new QueueHitSink(queue, deadLetters).send([hit('ok1'), monster, hit('ok2')]);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ queue: 'hits', detectionId: 'T1608.003', key: 'monster' });
    expect(dead[0]!.reason).toMatch(/does not fit a queue message/);
    expect((await receiveAll(queue)).flatMap((t) => hitsOfMessage(decodeQueueMessage(t)) as Hit[]).map((h) => h.key)).toEqual(['ok1', 'ok2']);
    const letters = (await receiveAll(deadLetters)).map((t) => decodeQueueMessage(t) as DeadLetter);
    expect(letters).toEqual([expect.objectContaining({ key: 'monster', queue: 'hits' })]);
    expect(letters[0]!.excerpt.length).toBeLessThanOrEqual(2_000);
  });
});

describe('hitMessage', () => {
  it('cuts huge text cells so the message fits the queue, and says so', () => {
    const big = hit('big', { AdditionalExtensions: 'x'.repeat(200_000), DestinationPort: 443 });
    const message = hitMessage(big);
    expect(message.length).toBeLessThanOrEqual(MAX_QUEUE_MESSAGE_BYTES);
    const [back] = hitsOfMessage(decodeQueueMessage(message)) as Hit[];
    expect(back!.key).toBe('big');
    expect(back!.row.DestinationPort).toBe(443);
    expect(String(back!.row.AdditionalExtensions)).toMatch(/…\[cut from 200000 chars\]$/);
  });

  it('leaves a normal hit as it is', () => {
    expect(hitsOfMessage(decodeQueueMessage(hitMessage(hit('small'))))).toEqual([hit('small')]);
  });

  it('reads a bare hit (the earlier one-hit-per-message form) and a plain group as their hits', () => {
    expect(hitsOfMessage(hit('bare'))).toEqual([hit('bare')]);
    expect(hitsOfMessage({ hits: [hit('a'), hit('b')] })).toEqual([hit('a'), hit('b')]);
  });

  it('a compressed group that does not inflate to hits is a clear error naming hitsGzip', () => {
    expect(() => parseHitMessages({ hitsGzip: Buffer.from('not gzip').toString('base64') })).toThrow(ValidationError);
    const notArray = gzipSync('{"a":1}').toString('base64');
    expect(() => parseHitMessages({ hitsGzip: notArray })).toThrow(/invalid hits message/);
    const ok = packHits(fitHits([hit('z1'), hit('z2')], new Date()).fitted);
    expect(parseHitMessages(ok[0]).map((h) => h.key)).toEqual(['z1', 'z2']);
  });
});
