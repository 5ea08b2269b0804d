import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import type { Hit } from '../../../shared/model.js';
import { QueueHitSink, hitMessage } from '../../../shared/state/hit-queue.js';
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

describe('QueueHitSink', () => {
  it('puts one base64 JSON message per hit on the queue (what the queue trigger decodes by default)', async () => {
    const queue = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.queue('hits-sink-test');
    const hits = Array.from({ length: 20 }, (_, i) => hit(`k${i}`));
    await new QueueHitSink(queue).send(hits);
    const texts: string[] = [];
    for (;;) {
      const got = await queue.receiveMessages({ numberOfMessages: 32 });
      if (got.receivedMessageItems.length === 0) break;
      texts.push(...got.receivedMessageItems.map((m) => m.messageText));
    }
    expect(texts).toHaveLength(20);
    expect(texts.every((t) => /^[A-Za-z0-9+/]+=*$/.test(t))).toBe(true);
    const decoded = texts.map((t) => JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as Hit);
    expect(decoded.map((h) => h.key).sort()).toEqual(hits.map((h) => h.key).sort());
    expect(decoded[0]).toEqual(hits.find((h) => h.key === decoded[0]?.key));
  });
});

describe('hitMessage', () => {
  it('cuts huge text cells so the message fits the queue, and says so', () => {
    const big = hit('big', { AdditionalExtensions: 'x'.repeat(200_000), DestinationPort: 443 });
    const message = hitMessage(big);
    expect(message.length).toBeLessThanOrEqual(MAX_QUEUE_MESSAGE_BYTES);
    const back = decodeQueueMessage(message) as Hit;
    expect(back.key).toBe('big');
    expect(back.row.DestinationPort).toBe(443);
    expect(String(back.row.AdditionalExtensions)).toMatch(/…\[cut from 200000 chars\]$/);
  });

  it('leaves a normal hit as it is', () => {
    expect(decodeQueueMessage(hitMessage(hit('small')))).toEqual(hit('small'));
  });
});
