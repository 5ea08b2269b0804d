import { TableClient } from '@azure/data-tables';
import type { InvocationContext, Timer } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The function files register themselves with the host on import; here the handlers are called directly.
vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return { ...actual, app: { ...actual.app, storageQueue: vi.fn(), timer: vi.fn(), http: vi.fn() } };
});

import { InvocationContext as Context } from '@azure/functions';
import { makeDeliverHandler, type PoisonMessage } from '../../functions/deliver.js';
import { makeEnrichHitsHandler } from '../../functions/enrich-hits.js';
import { makeHuntHandler } from '../../functions/hunt.js';
import { makeTeamsDigestHandler } from '../../functions/teams-digest.js';
import { loadConfig } from '../../shared/config.js';
import { createDeliverer, idempotencyKey } from '../../shared/delivery/deliverer.js';
import { incidentPayloadSchema } from '../../shared/delivery/incident-schema.js';
import { t1608003 } from '../../shared/detections/definitions/t1608-003.js';
import { enricherFromConfig } from '../../shared/enrichment/enricher.js';
import { huntSettings } from '../../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../../shared/hunting/log-analytics.js';
import { parseTuning } from '../../shared/scoring/tuning.js';
import { type DeliveryLedger, type PendingLedger, tableLedger } from '../../shared/state/delivery-ledger.js';
import { QueueHitSink } from '../../shared/state/hit-queue.js';
import { TableHuntState } from '../../shared/state/hunt-state.js';
import { TableSeenHits } from '../../shared/state/seen-hits.js';
import { decodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../helpers/log-analytics-server.js';
import { startWebhookReceiver, TEST_SIGNATURE, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { fakeCredential } from '../shared/delivery/fixtures.js';
import { logAnalyticsSource } from '../../shared/hunting/sources/hunt-source.js';

/**
 * hunt → "hits" → enrich-hits → "findings" → deliver → teams-digest timer, each stage's real handler called directly
 * by a small stand-in for the Functions queue host (receive, invoke with dequeueCount, delete on
 * success, leave the message for redelivery on a throw), against Azurite queues and tables, a
 * Log Analytics stand-in, a crt.sh stand-in and an HTTPS webhook receiver. Faults: redelivered
 * messages, webhook 503/429/timeouts, and a crash between the POST and the ledger's 'posted' mark
 * (once in deliver for an incident, once in the teams-digest timer for a Teams card).
 */

const WORKSPACE = '11111111-2222-3333-4444-555555555555';

describe('the whole chain delivers every finding exactly once under faults', () => {
  let azurite: AzuriteInstance;
  let la: LogAnalyticsServer;
  let crtsh: CrtshStandIn;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    [azurite, la, crtsh, receiver] = await Promise.all([
      startAzurite(),
      startLogAnalyticsServer(),
      startCrtshStandIn(),
      startWebhookReceiver({ tls: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([azurite?.stop(), la?.close(), crtsh?.stop(), receiver?.stop()]);
  });

  it('hunt → hits → enrich → findings → deliver → teams digest', async () => {
    const now = new Date();
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    const tlsRow = (i: number, host: string, cn: string) => ({
      TimeGenerated: minutesAgo(60 + i).toISOString(),
      DeviceVendor: 'Check Point',
      DeviceProduct: 'VPN-1 & FireWall-1',
      DeviceAction: 'accept',
      SourceIP: `10.20.0.${10 + i}`,
      SourcePort: 50_000 + i,
      DestinationIP: `203.0.113.${20 + i}`,
      DestinationPort: 443,
      DestinationHostName: host,
      AdditionalExtensions: `ssl_subject=CN=${cn};ssl_issuer=CN=${cn}`,
    });
    const TUNING = parseTuning({ organisation: { tlsInspectionAppliances: ['203.0.113.24'] } });
    const rows = [
      tlsRow(1, 'update-check.example-cdn.net', 'localhost'),
      tlsRow(2, 'login.contoso-support.net', 'login.contoso-support.net'),
      tlsRow(3, 'files.fabrikam-share.org', 'test'),
      // Through the organisation's TLS-inspection appliance (its address, 203.0.113.24, is in the
      // tuning): a hit the default tls-inspection-appliance rule suppresses.
      { ...tlsRow(4, 'portal.northwind-traders.com', 'localhost'), AdditionalExtensions: 'ssl_subject=CN=localhost;ssl_issuer=CN=Zscaler Intermediate Root CA' },
    ];
    // Raw rows: the server executes the hunt's KQL over them.
    la.tables = { CommonSecurityLog: rows.map((row, i) => ({ row, ingestedAt: minutesAgo(55 + i) })) };

    const config = loadConfig({
      CRTSH_BASE_URL: crtsh.url,
      CRTSH_TIMEOUT: '5s',
      TLS_PROBE_ENABLED: 'false',
      STATE_STORAGE_CONNECTION: azurite.connectionString,
    });
    const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
    const queue = (name: string) => new QueueClient(azurite.connectionString, name);
    const hitsQueue = queue('hits');
    const findingsQueue = queue('findings');
    const poisonQueue = queue('findings-poison');
    const logs: string[] = [];
    const context = (functionName: string, dequeueCount = 1): InvocationContext =>
      new Context({
        invocationId: `${functionName}-${dequeueCount}-${logs.length}`,
        functionName,
        triggerMetadata: { dequeueCount },
        logHandler: (level, ...args) => logs.push(`${functionName} ${level}: ${args.map(String).join(' ')}`),
      });

    // 1. hunt: Log Analytics stand-in → hits queue
    const hunt = makeHuntHandler(t1608003, () => ({
      source: logAnalyticsSource(createLogsQueryClient(fakeCredential, { endpoint: la.endpoint, retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } }), WORKSPACE),
      state: new TableHuntState(table('huntstate'), 'e2e'),
      seen: new TableSeenHits(table('seenhits'), 'e2e'),
      sink: new QueueHitSink(hitsQueue),
      tuning: TUNING,
      settings: huntSettings(config),
      now: () => now,
    }));
    const huntResult = await hunt({ isPastDue: false } as unknown as Timer, context('hunt'));
    expect(huntResult.status).toBe('ok');

    // 2. enrich-hits: hits → findings. Every hit message is delivered twice (redelivery).
    const enrich = makeEnrichHitsHandler(() => ({
      enricher: enricherFromConfig(config, undefined, { now: () => now }),
      tuning: TUNING,
      findings: findingsQueue,
      ledger: table('enrichledger'),
      now: () => now,
    }));
    const hitMessages = await drain(hitsQueue, async (text, dequeueCount) => {
      await enrich(text, context('enrichHits', dequeueCount));
      await enrich(text, context('enrichHits', dequeueCount + 1)); // the host redelivered it
    });
    expect(hitMessages).toBe(1); // the slice's four hits travel grouped in one message

    // The enrich stage's own crash window (enqueued, ledger not written) enqueues a finding twice:
    // copy one finding message to play it.
    const peeked = await findingsQueue.peekMessages({ numberOfMessages: 32 });
    expect(peeked.peekedMessageItems).toHaveLength(4);
    await findingsQueue.sendMessage(peeked.peekedMessageItems[0]!.messageText);

    // 3. deliver, with faults: a 503 and a 429 on the first posts, a hang past the client timeout
    // (processed by the receiver, answer lost), and a crash after the first incident post. The
    // Teams cards are left pending for the teams-digest timer (step 4).
    receiver.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 429, retryAfter: '7' }, { kind: 'hang', processed: true });
    const inner = tableLedger(table('deliveries'));
    const crashes: Record<string, number> = { incident: 1, teams: 1 };
    const crashingLedger: DeliveryLedger & PendingLedger = {
      ...inner,
      markPosted: async (d, dest, k, s) => {
        if ((crashes[dest] ?? 0) > 0) {
          crashes[dest]!--;
          throw new Error('worker process killed');
        }
        return inner.markPosted(d, dest, k, s);
      },
    };
    const sleeps: number[] = [];
    const deliverer = createDeliverer({
      incidentWebhookUrl: receiver.url('/incident'),
      teamsWebhookUrl: receiver.url('/teams'),
      ledger: crashingLedger,
      pendingTeams: crashingLedger,
      digestThreshold: config.DIGEST_THRESHOLD,
      maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
      post: { timeoutMs: 500, sleep: async (ms) => void sleeps.push(ms) },
      // The drain redelivers a crashed message at once; a real redelivery comes after the crashed worker's lease.
      claimLeaseMs: 1,
    });
    const deliver = makeDeliverHandler(() => ({ deliverer, poisonQueue, maxAttempts: config.DELIVERY_MAX_ATTEMPTS }));
    let thrown = 0;
    const deliveredMessages = await drain(findingsQueue, async (text, dequeueCount) => {
      try {
        await deliver(text, context('deliver', dequeueCount));
      } catch (err) {
        thrown++;
        throw err;
      }
      await deliver(text, context('deliver', dequeueCount + 1)); // visibility timeout ran out: delivered again
    });

    // The crash really happened and the message really came back.
    expect(thrown).toBe(1);
    expect(deliveredMessages).toBe(6); // 5 messages, one of them twice (after the crash)
    expect(sleeps.filter((ms) => ms >= 7000)).toHaveLength(1); // Retry-After honoured (backoff alone stays under 4 s here)
    expect(receiver.requests.filter((r) => r.path === '/teams')).toHaveLength(0); // deliver left every card pending

    // 4. teams-digest, after the queues drained: 3 pending (at most DIGEST_THRESHOLD), so one card
    // each. The first run crashes after its first post; the next minute's run finishes the job.
    const teamsDigest = makeTeamsDigestHandler(() => ({ deliverer, poisonQueue }));
    const timer = { isPastDue: false } as unknown as Timer;
    await expect(teamsDigest(timer, context('teamsDigest'))).rejects.toThrow('worker process killed');
    const secondRun = await teamsDigest(timer, context('teamsDigest'));
    expect(secondRun).toMatchObject({ findings: 3, digest: false, posted: 3, failed: 0 });
    expect(await inner.listPending('teams')).toEqual([]);
    expect((await teamsDigest(timer, context('teamsDigest'))).findings).toBe(0);

    // Exactly once per finding and destination, at the receiver.
    const enqueued = peeked.peekedMessageItems.map((m) => decodeQueueMessage(m.messageText) as { id: string; suppressedBy?: { rule: string } });
    const suppressed = enqueued.filter((f) => f.suppressedBy);
    expect(suppressed.map((f) => f.suppressedBy?.rule)).toEqual(['tls-inspection-appliance']);
    const findingIds = enqueued.filter((f) => !f.suppressedBy).map((f) => f.id).sort();
    expect(findingIds).toHaveLength(3);
    const incidents = receiver.acceptedAt('/incident');
    const cards = receiver.acceptedAt('/teams');
    expect(incidents.map((r) => (r.body as { findingId: string }).findingId).sort()).toEqual(findingIds);
    expect(cards.map((r) => r.idempotencyKey).sort()).toEqual(findingIds.map((id) => idempotencyKey(id, 'teams')).sort());
    for (const r of incidents) expect(incidentPayloadSchema.safeParse(r.body).success).toBe(true);
    // … although the receiver saw repeats (timeout retry, the two crashes): they were dropped by key.
    expect(receiver.requests.length).toBeGreaterThan(incidents.length + cards.length);
    expect(receiver.duplicatesDropped).toBe(3);
    for (const id of findingIds) expect(await inner.get(id, 'teams')).toMatchObject({ status: 'posted', idempotencyKey: idempotencyKey(id, 'teams') });
    // The suppressed finding reached neither webhook; the ledger says why, per destination.
    expect(JSON.stringify(receiver.requests.map((r) => [r.idempotencyKey, r.body]))).not.toContain(suppressed[0]!.id);
    for (const destination of ['incident', 'teams']) {
      expect(await inner.get(suppressed[0]!.id, destination)).toMatchObject({ status: 'suppressed', suppressedBy: 'tls-inspection-appliance' });
    }
    const copies = enqueued[0]!.id === suppressed[0]!.id ? 2 : 1; // the first message was enqueued twice
    // one line per delivery of its message(s), each delivered twice by the drain
    expect(logs.filter((l) => l.includes(`suppressed ${suppressed[0]!.id}: detection T1608.003, rule tls-inspection-appliance`))).toHaveLength(2 * copies);
    // Nothing poisoned, nothing left on any queue, no signature in any log line.
    expect(await poisonQueue.exists()).toBe(false);
    expect((await findingsQueue.getProperties()).approximateMessagesCount).toBe(0);
    expect(logs.join('\n')).not.toContain(TEST_SIGNATURE);
    expect(logs.some((l) => l.includes('already posted'))).toBe(true);
  });

  it('a finding whose webhook keeps failing ends in findings-poison with a redacted reason, and is not posted', async () => {
    receiver.reset();
    const q = new QueueClient(azurite.connectionString, 'findings-p');
    const poison = new QueueClient(azurite.connectionString, 'findings-p-poison');
    const deliver = makeDeliverHandler(() => ({
      deliverer: createDeliverer({
        incidentWebhookUrl: receiver.url('/incident-p'),
        ledger: tableLedger(TableClient.fromConnectionString(azurite.connectionString, 'deliveriesp', { allowInsecureConnection: true })),
        digestThreshold: 10,
        maxAttempts: 3,
        post: { timeoutMs: 500, sleep: async () => {} },
      }),
      poisonQueue: poison,
      maxAttempts: 3,
    }));
    receiver.inject({ kind: 'status', status: 502 }, { kind: 'status', status: 503 }, { kind: 'status', status: 500 });
    await q.createIfNotExists();
    const { sampleFinding } = await import('../shared/delivery/fixtures.js');
    await q.sendMessage(Buffer.from(JSON.stringify(sampleFinding({ id: 'poisoned-finding' }))).toString('base64'));
    const handled = await drain(q, (text, n) => deliver(text, new Context({ invocationId: 'p', functionName: 'deliver', triggerMetadata: { dequeueCount: n } })));
    expect(handled).toBe(1);
    const got = await poison.receiveMessages({ numberOfMessages: 10 });
    expect(got.receivedMessageItems).toHaveLength(1);
    const message = decodeQueueMessage(got.receivedMessageItems[0]!.messageText) as PoisonMessage;
    expect(message.reason).toMatch(/incident: incident webhook \(https:\/\/127\.0\.0\.1:\d+\) unavailable: HTTP 500/);
    expect(JSON.stringify(message)).not.toContain(TEST_SIGNATURE);
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.acceptedAt('/incident-p')).toHaveLength(0);
  });
});

/**
 * A stand-in for the queue trigger host: takes visible messages one at a time, runs the handler,
 * deletes the message when the handler returns, makes it visible again at once when it throws.
 * Returns how many handler runs completed or threw.
 */
async function drain(queue: QueueClient, handle: (text: string, dequeueCount: number) => Promise<void>): Promise<number> {
  let runs = 0;
  for (let guard = 0; guard < 100; guard++) {
    if (!(await queue.exists())) return runs;
    const got = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 });
    const m = got.receivedMessageItems[0];
    if (!m) return runs;
    runs++;
    try {
      await handle(m.messageText, m.dequeueCount);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    } catch {
      await queue.updateMessage(m.messageId, m.popReceipt, undefined, 0);
    }
  }
  throw new Error('queue never drained');
}
