import { InvocationContext } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return { ...actual, app: { ...actual.app, storageQueue: vi.fn() } };
});

import { makeDeliverHandler } from '../../functions/deliver.js';
import { createDeliverer, idempotencyKey } from '../../shared/delivery/deliverer.js';
import { tableLedger } from '../../shared/state/delivery-ledger.js';
import { encodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { sampleFinding } from '../shared/delivery/fixtures.js';

/**
 * Two workers holding the same queue message (a visibility timeout that ran out, a message
 * enqueued twice) deliver at the same moment, each with its own storage clients, against one
 * Azurite ledger. Exactly one posts: the ledger's claim is a conditional write.
 */
describe('functions/deliver: two invocations on one message post once (Azurite)', () => {
  let azurite: AzuriteInstance;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    [azurite, receiver] = await Promise.all([startAzurite(), startWebhookReceiver({ tls: true })]);
  });
  afterAll(async () => {
    await Promise.all([azurite?.stop(), receiver?.stop()]);
  });

  const worker = (name: string, logs: string[]) => {
    const ledger = tableLedger(TableClient.fromConnectionString(azurite.connectionString, 'deliveriesrace', { allowInsecureConnection: true }));
    const deliverer = createDeliverer({
      incidentWebhookUrl: receiver.url('/incident-race'),
      teamsWebhookUrl: receiver.url('/teams-race'),
      ledger,
      pendingTeams: ledger,
      digestThreshold: 10,
      maxAttempts: 2,
      post: { sleep: async () => {}, timeoutMs: 2_000 },
    });
    const handler = makeDeliverHandler(() => ({ deliverer, poisonQueue: new QueueClient(azurite.connectionString, 'deliveriesrace-poison'), maxAttempts: 2 }));
    return (message: string) =>
      handler(
        message,
        new InvocationContext({ invocationId: `${name}-${logs.length}`, functionName: 'deliver', logHandler: (level, ...args) => logs.push(`${name} ${level}: ${args.map(String).join(' ')}`) }),
      );
  };

  it('20 pairs of concurrent deliveries: 20 incident posts, 20 pending Teams cards, nothing poisoned', async () => {
    const logs: string[] = [];
    const a = worker('a', logs);
    const b = worker('b', logs);
    const ids = Array.from({ length: 20 }, (_, i) => `fn-race-${i}`);
    for (const id of ids) {
      const message = encodeQueueMessage(sampleFinding({ id }));
      await Promise.all([a(message), b(message)]);
    }
    const postsPerFinding = ids.map((id) => receiver.requests.filter((r) => r.idempotencyKey === idempotencyKey(id, 'incident')).length);
    expect(postsPerFinding).toEqual(ids.map(() => 1));
    const ledger = tableLedger(TableClient.fromConnectionString(azurite.connectionString, 'deliveriesrace', { allowInsecureConnection: true }));
    expect((await ledger.listPending('teams')).map((e) => e.findingId).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await ledger.get(id, 'incident')).toMatchObject({ status: 'posted', starts: 1 });
    expect(logs.join('\n')).not.toMatch(/moved to findings-poison/);
  });
});
