import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return { ...actual, app: { ...actual.app, storageQueue: vi.fn() } };
});

import { createDeliverer } from '../../shared/delivery/deliverer.js';
import { decodeQueueMessage, encodeQueueMessage } from '../../shared/state/storage.js';
import { tableLedger } from '../../shared/state/delivery-ledger.js';
import { type DeliverDeps, makeDeliverHandler, type PoisonMessage } from '../../functions/deliver.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { startWebhookReceiver, TEST_SIGNATURE, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { sampleFinding } from '../shared/delivery/fixtures.js';
import { invocationContext } from '../helpers/invocation-context.js';

describe('functions/deliver (Azurite ledger and poison queue, loopback webhooks)', () => {
  let azurite: AzuriteInstance;
  let receiver: WebhookReceiver;
  let n = 0;
  beforeAll(async () => {
    [azurite, receiver] = await Promise.all([startAzurite(), startWebhookReceiver({ tls: true })]);
  });
  afterAll(async () => {
    await Promise.all([azurite?.stop(), receiver?.stop()]);
  });

  function setup(maxAttempts = 2) {
    n++;
    const ledgerTable = TableClient.fromConnectionString(azurite.connectionString, `deliveries${n}`, { allowInsecureConnection: true });
    const poisonQueue = new QueueClient(azurite.connectionString, `findings-poison-${n}`);
    const ledger = tableLedger(ledgerTable);
    // As in production: Teams cards are left pending for the teams-digest timer (test/functions/teams-digest.test.ts).
    const deps: DeliverDeps = {
      deliverer: createDeliverer({
        incidentWebhookUrl: receiver.url(`/incident${n}`),
        teamsWebhookUrl: receiver.url(`/teams${n}`),
        ledger,
        pendingTeams: ledger,
        digestThreshold: 10,
        maxAttempts,
        post: { sleep: async () => {}, timeoutMs: 400 },
      }),
      poisonQueue,
      maxAttempts,
    };
    const logs: string[] = [];
    const context = (dequeueCount = 1) => invocationContext('deliver', { invocationId: `inv-${n}-${dequeueCount}`, dequeueCount, logs });
    const poisoned = async (): Promise<PoisonMessage[]> => {
      if (!(await poisonQueue.exists())) return [];
      const got = await poisonQueue.receiveMessages({ numberOfMessages: 32 });
      return got.receivedMessageItems.map((m) => decodeQueueMessage(m.messageText) as PoisonMessage);
    };
    return { deps, handler: makeDeliverHandler(() => deps), logs, context, poisoned, ledgerTable, ledger, n };
  }

  it('posts the incident and leaves the Teams card pending; a redelivered message is skipped by the ledger', async () => {
    const t = setup();
    const finding = sampleFinding({ id: 'fn-redeliver' });
    await t.handler(finding, t.context(1));
    await t.handler(encodeQueueMessage(finding), t.context(2));
    expect(receiver.acceptedAt(`/incident${t.n}`)).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path.endsWith(String(t.n)))).toHaveLength(1); // no Teams post from this function
    const rows: Array<{ destination: string; status: string }> = [];
    for await (const e of t.ledgerTable.listEntities<{ destination: string; status: string }>()) if (e.status) rows.push(e);
    expect(rows.map((r) => `${r.destination}:${r.status}`).sort()).toEqual(['incident:posted', 'teams:pending']);
    expect((await t.ledger.listPending('teams')).map((e) => e.findingId)).toEqual(['fn-redeliver']);
    expect(t.logs.join('\n')).toContain('incident fn-redeliver: already posted');
    expect(t.logs.join('\n')).toContain('1 Teams card left for the teams-digest timer');
    expect(await t.poisoned()).toEqual([]);
  });

  it('a suppressed finding is not posted (as in the CLI): ledger says suppressed with the rule, one log line, not poisoned; a redelivery posts nothing', async () => {
    const t = setup();
    const finding = sampleFinding({ id: 'fn-suppressed', suppressedBy: { rule: 'cdn-wildcard-mismatch', reason: 'CDN wildcard certificate that does not name the exact subdomain' } });
    await t.handler(encodeQueueMessage(finding), t.context(1));
    await t.handler(encodeQueueMessage(finding), t.context(2));
    expect(receiver.requests.filter((r) => r.path.endsWith(String(t.n)))).toHaveLength(0);
    const rows: Array<{ destination: string; status: string; suppressedBy?: string }> = [];
    for await (const e of t.ledgerTable.listEntities<{ destination: string; status: string; suppressedBy?: string }>()) rows.push(e);
    expect(rows.map((r) => `${r.destination}:${r.status}:${r.suppressedBy}`).sort()).toEqual(['incident:suppressed:cdn-wildcard-mismatch', 'teams:suppressed:cdn-wildcard-mismatch']);
    const lines = t.logs.filter((l) => /suppressed fn-suppressed: detection T1608\.003, rule cdn-wildcard-mismatch/.test(l));
    expect(lines).toHaveLength(2); // one per invocation
    expect(t.logs.join('\n')).toContain('deliver fn-suppressed: 0 posted, 0 already posted, 0 failed, 1 suppressed');
    expect(await t.poisoned()).toEqual([]);
  });

  it('after DELIVERY_MAX_ATTEMPTS a failing webhook sends the message to the poison queue with a redacted reason', async () => {
    const t = setup(2);
    receiver.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const finding = sampleFinding({ id: 'fn-poison' });
    await t.handler(finding, t.context(1));
    const poison = await t.poisoned();
    expect(poison).toHaveLength(1);
    expect(poison[0]!.reason).toContain('incident: incident webhook');
    expect(poison[0]!.reason).toContain('HTTP 503');
    expect(poison[0]!.failures).toEqual([{ destination: 'incident', error: expect.stringContaining('HTTP 503'), permanent: false }]);
    expect((poison[0]!.finding as { id: string }).id).toBe('fn-poison');
    // The Teams card still waits for the timer; the incident never reached the channel.
    expect((await t.ledger.listPending('teams')).map((e) => e.findingId)).toEqual(['fn-poison']);
    expect(receiver.acceptedAt(`/incident${t.n}`)).toHaveLength(0);
    const everything = `${t.logs.join('\n')}\n${JSON.stringify(poison)}`;
    expect(everything).toContain('127.0.0.1');
    expect(everything).not.toContain(TEST_SIGNATURE);
  });

  it('poisons a message that is not a finding, and one dequeued too often', async () => {
    const t = setup(2);
    await t.handler({ hello: 'world' }, t.context(1));
    await t.handler(sampleFinding({ id: 'fn-loop' }), t.context(3));
    const poison = await t.poisoned();
    expect(poison.map((p) => p.reason.split(':')[0])).toEqual(['not a finding', 'dequeued 3 times without completing (limit 2)']);
    expect(receiver.requests.filter((r) => r.path.endsWith(String(t.n)))).toHaveLength(0);
  });

  it('never logs the webhook signature, even when the URL shows up in an error', async () => {
    const t = setup(1);
    receiver.inject({ kind: 'hang' });
    await t.handler(sampleFinding({ id: 'fn-timeout' }), t.context(1));
    const text = t.logs.join('\n');
    expect(text).toMatch(/timed out/);
    expect(text).not.toContain(TEST_SIGNATURE);
    expect(text).not.toContain('sig=');
  });
});
