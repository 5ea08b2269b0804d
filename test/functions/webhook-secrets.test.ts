import { createServer } from 'node:net';
import { InvocationContext, type Timer } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return { ...actual, app: { ...actual.app, storageQueue: vi.fn(), timer: vi.fn() } };
});

import { makeDeliverHandler } from '../../functions/deliver.js';
import { makeTeamsDigestHandler } from '../../functions/teams-digest.js';
import { createDeliverer } from '../../shared/delivery/deliverer.js';
import { tableLedger } from '../../shared/state/delivery-ledger.js';
import { encodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { type Fault, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { sampleFinding } from '../shared/delivery/fixtures.js';

/**
 * A webhook URL is a secret as a whole. Teams/Office incoming webhooks carry the secret in the
 * path (…/webhookb2/<guid>@<tenant>/IncomingWebhook/<secret>/<guid>), Logic App callbacks in the
 * path and sig=. Every failure mode of both webhooks is played here; the logs, the thrown errors
 * and the poison messages must show scheme and host only.
 */
const PATH_SECRET = 'PathSecret0123456789abcdefABCDEF';
const SIG = 'SigSecret0123456789xyz';

describe('webhook secrets never leak, whatever fails (Azurite, loopback webhooks)', () => {
  let azurite: AzuriteInstance;
  let receiver: WebhookReceiver;
  let closedPort = 0;
  let n = 0;
  beforeAll(async () => {
    [azurite, receiver] = await Promise.all([startAzurite(), startWebhookReceiver({ tls: true })]);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    await Promise.all([azurite?.stop(), receiver?.stop()]);
  });

  const teamsPath = `/webhookb2/0a1b2c3d-aaaa-bbbb-cccc-000000000000@11111111-2222-3333-4444-555555555555/IncomingWebhook/${PATH_SECRET}/66666666-7777-8888-9999-000000000000`;
  const incidentPath = `/workflows/${PATH_SECRET}/triggers/manual/paths/invoke`;

  async function run(mode: string, faults: Fault[], origin: string) {
    n++;
    const ledger = tableLedger(TableClient.fromConnectionString(azurite.connectionString, `secrets${n}`, { allowInsecureConnection: true }));
    const poisonQueue = new QueueClient(azurite.connectionString, `secrets-poison-${n}`);
    const deliverer = createDeliverer({
      incidentWebhookUrl: `${origin}${incidentPath}?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`,
      teamsWebhookUrl: `${origin}${teamsPath}`,
      ledger,
      pendingTeams: ledger,
      digestThreshold: 10,
      maxAttempts: 1,
      post: { sleep: async () => {}, timeoutMs: 300, maxRetryAfterMs: 1_000 },
    });
    const seen: string[] = [];
    const context = (name: string) =>
      new InvocationContext({ invocationId: `${name}-${n}`, functionName: name, logHandler: (level, ...args) => seen.push(`${level}: ${args.map(String).join(' ')}`) });
    receiver.inject(...faults);
    await makeDeliverHandler(() => ({ deliverer, poisonQueue, maxAttempts: 1 }))(encodeQueueMessage(sampleFinding({ id: `fn-secret-${n}` })), context('deliver'));
    receiver.inject(...faults);
    try {
      await makeTeamsDigestHandler(() => ({ deliverer, poisonQueue }))({ isPastDue: false } as unknown as Timer, context('teamsDigest'));
    } catch (err) {
      seen.push(`thrown: ${(err as Error).message} ${(err as Error).stack ?? ''}`);
    }
    const got = (await poisonQueue.exists()) ? await poisonQueue.receiveMessages({ numberOfMessages: 32 }) : { receivedMessageItems: [] };
    for (const m of got.receivedMessageItems) seen.push(`poison: ${Buffer.from(m.messageText, 'base64').toString('utf8')}`);
    return { mode, text: seen.join('\n'), poisoned: got.receivedMessageItems.length };
  }

  const modes: Array<[string, Fault[]]> = [
    ['400 (rejected card)', [{ kind: 'status', status: 400 }]],
    ['404 (webhook deleted)', [{ kind: 'status', status: 404 }]],
    ['302 (redirect, not followed)', [{ kind: 'status', status: 302 }]],
    ['429 with a Retry-After too long to wait', [{ kind: 'status', status: 429, retryAfter: '3600' }]],
    ['503', [{ kind: 'status', status: 503 }]],
    ['no answer (timeout)', [{ kind: 'hang' }]],
  ];

  it.each(modes)('%s: both webhooks fail into findings-poison, and nothing shows the path or the signature', async (mode, faults) => {
    const r = await run(mode, faults, receiver.origin);
    expect(r.poisoned).toBe(2); // the incident message, and the Teams card
    expect(r.text).toContain(receiver.origin);
    expect(r.text).not.toContain(PATH_SECRET);
    expect(r.text).not.toContain(SIG);
    expect(r.text).not.toContain('IncomingWebhook');
  });

  it('connection refused: the same', async () => {
    const r = await run('refused', [], `https://127.0.0.1:${closedPort}`);
    expect(r.poisoned).toBe(2);
    expect(r.text).toMatch(/ECONNREFUSED/);
    expect(r.text).not.toContain(PATH_SECRET);
    expect(r.text).not.toContain(SIG);
  });
});
