import { InvocationContext, type Timer } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  return { ...actual, app: { ...actual.app, storageQueue: vi.fn(), timer: vi.fn() } };
});

import { makeDeliverHandler, type PoisonMessage } from '../../functions/deliver.js';
import { makeTeamsDigestHandler } from '../../functions/teams-digest.js';
import { createDeliverer, idempotencyKey } from '../../shared/delivery/deliverer.js';
import { digestId } from '../../shared/delivery/digest.js';
import type { Finding } from '../../shared/model.js';
import { type DeliveryLedger, memoryLedger, type PendingLedger, tableLedger } from '../../shared/state/delivery-ledger.js';
import { decodeQueueMessage, encodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { startWebhookReceiver, TEST_SIGNATURE, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { sampleFinding } from '../shared/delivery/fixtures.js';
import { cardProblems } from '../shared/delivery/validate-card.js';

const many = (n: number, prefix: string): Finding[] =>
  Array.from({ length: n }, (_, i) => {
    const f = sampleFinding({ id: `${prefix}-${String(i).padStart(3, '0')}`, level: i % 3 === 0 ? 'High' : 'Medium', score: 10 - (i % 5) });
    f.hit.entities.destinationHost = `host-${i}.example-cdn.net`;
    return f;
  });

const cardOf = (body: unknown) => (body as { attachments: Array<{ content: unknown }> }).attachments[0]!.content;

describe('functions/teams-digest (deliver leaves Teams cards pending; the timer posts one card each or one digest)', () => {
  let azurite: AzuriteInstance;
  let receiver: WebhookReceiver;
  let n = 0;
  beforeAll(async () => {
    [azurite, receiver] = await Promise.all([startAzurite(), startWebhookReceiver({ tls: true })]);
  });
  afterAll(async () => {
    await Promise.all([azurite?.stop(), receiver?.stop()]);
  });

  /** The production wiring (one table ledger for both roles), with an optional wrapper to inject crashes. */
  function setup(wrap: (ledger: DeliveryLedger & PendingLedger) => DeliveryLedger & PendingLedger = (l) => l) {
    n++;
    const table = TableClient.fromConnectionString(azurite.connectionString, `teamsdigest${n}`, { allowInsecureConnection: true });
    const inner = tableLedger(table);
    const ledger = wrap(inner);
    const deliverer = createDeliverer({
      incidentWebhookUrl: receiver.url(`/incident${n}`),
      teamsWebhookUrl: receiver.url(`/teams${n}`),
      ledger,
      pendingTeams: ledger,
      digestThreshold: 10,
      maxAttempts: 2,
      post: { sleep: async () => {}, timeoutMs: 400 },
      // The crash tests run the timer again at once; a real run comes a minute later, past the crashed run's lease.
      claimLeaseMs: 1,
    });
    const logs: string[] = [];
    const context = (name: string, dequeueCount = 1) =>
      new InvocationContext({
        invocationId: `${name}-${n}-${logs.length}`,
        functionName: name,
        triggerMetadata: { dequeueCount },
        logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
      });
    const poisonQueue = new QueueClient(azurite.connectionString, `teamsdigest-poison-${n}`);
    const deliverHandler = makeDeliverHandler(() => ({ deliverer, poisonQueue, maxAttempts: 2 }));
    const digestHandler = makeTeamsDigestHandler(() => ({ deliverer, poisonQueue }));
    const poisoned = async (): Promise<PoisonMessage[]> => {
      if (!(await poisonQueue.exists())) return [];
      const got = await poisonQueue.receiveMessages({ numberOfMessages: 32 });
      return got.receivedMessageItems.map((m) => decodeQueueMessage(m.messageText) as PoisonMessage);
    };
    const deliver = (f: Finding, dequeueCount = 1) => deliverHandler(encodeQueueMessage(f), context('deliver', dequeueCount));
    const runTimer = () => digestHandler({ isPastDue: false } as unknown as Timer, context('teamsDigest'));
    return { inner, deliver, runTimer, poisoned, logs, n, teams: `/teams${n}`, incident: `/incident${n}` };
  }

  it('25 findings: 25 incident posts from deliver, then ONE digest card listing all 25 from one timer run', async () => {
    const t = setup();
    const findings = many(25, 'flood');
    for (const f of findings) await t.deliver(f);
    expect(receiver.acceptedAt(t.incident)).toHaveLength(25);
    expect(receiver.requests.filter((r) => r.path === t.teams)).toHaveLength(0); // nothing posted to Teams yet
    expect(await t.inner.listPending('teams')).toHaveLength(25);

    const report = await t.runTimer();
    expect(report).toMatchObject({ findings: 25, digest: true, posted: 1, failed: 0 });
    const teams = receiver.requests.filter((r) => r.path === t.teams);
    expect(teams).toHaveLength(1);
    const id = digestId(findings);
    expect(teams[0]!.idempotencyKey).toBe(idempotencyKey(id, 'teams'));
    const card = cardOf(teams[0]!.body);
    expect(JSON.stringify(card)).toContain('25 findings');
    for (const f of findings) expect(JSON.stringify(card)).toContain(f.hit.entities.destinationHost!);
    expect(await cardProblems(card)).toEqual([]);
    // Every finding is marked posted under the digest's delivery id; nothing is left pending.
    for (const f of findings) expect(await t.inner.get(f.id, 'teams')).toMatchObject({ status: 'posted', deliveredIn: id, idempotencyKey: idempotencyKey(id, 'teams') });
    expect(await t.inner.listPending('teams')).toEqual([]);
    // The next minute finds nothing to do.
    expect(await t.runTimer()).toMatchObject({ findings: 0, posted: 0 });
    expect(receiver.requests.filter((r) => r.path === t.teams)).toHaveLength(1);
    expect(t.logs.join('\n')).not.toContain(TEST_SIGNATURE);
  });

  it('3 findings (at or below DIGEST_THRESHOLD): three cards, one per finding, each under its own key', async () => {
    const t = setup();
    const findings = many(3, 'few');
    for (const f of findings) await t.deliver(f);
    const report = await t.runTimer();
    expect(report).toMatchObject({ findings: 3, digest: false, posted: 3 });
    const teams = receiver.acceptedAt(t.teams);
    expect(teams.map((r) => r.idempotencyKey).sort()).toEqual(findings.map((f) => idempotencyKey(f.id, 'teams')));
    for (const r of teams) {
      expect(JSON.stringify(cardOf(r.body))).not.toContain('findings in this run');
      expect(await cardProblems(cardOf(r.body))).toEqual([]);
    }
    for (const f of findings) {
      const entry = await t.inner.get(f.id, 'teams');
      expect(entry).toMatchObject({ status: 'posted', idempotencyKey: idempotencyKey(f.id, 'teams') });
      expect(entry?.deliveredIn).toBeUndefined();
    }
  });

  it('a redelivered message does not create a second pending entry, before or after the timer ran', async () => {
    const t = setup();
    const [f] = many(1, 'again');
    await t.deliver(f!, 1);
    await t.deliver(f!, 2);
    const pending = await t.inner.listPending('teams');
    expect(pending.map((e) => e.findingId)).toEqual([f!.id]);
    expect(await t.inner.get(f!.id, 'teams')).toMatchObject({ status: 'pending' });
    await t.runTimer();
    await t.deliver(f!, 3); // redelivered once more after the card went out
    expect(await t.inner.listPending('teams')).toEqual([]);
    await t.runTimer();
    expect(receiver.requests.filter((r) => r.path === t.teams)).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === t.incident)).toHaveLength(1);
    expect(t.logs.join('\n')).toContain(`teams ${f!.id}: already pending, skipped`);
  });

  it('a suppressed finding never becomes pending and never reaches Teams', async () => {
    const t = setup();
    const f = sampleFinding({ id: 'quiet-001', suppressedBy: { rule: 'cdn-wildcard-mismatch', reason: 'CDN wildcard' } });
    await t.deliver(f);
    expect(await t.inner.listPending('teams')).toEqual([]);
    expect(await t.inner.get(f.id, 'teams')).toMatchObject({ status: 'suppressed', suppressedBy: 'cdn-wildcard-mismatch' });
    expect(await t.runTimer()).toMatchObject({ findings: 0, posted: 0 });
    expect(receiver.requests.filter((r) => r.path === t.teams || r.path === t.incident)).toHaveLength(0);
  });

  it('a crash between the digest post and its mark: the next run posts the same digest under the same key (dropped), new arrivals go separately', async () => {
    let crashes = 1;
    const t = setup((inner) => ({
      ...inner,
      markPosted: async (d, dest, k, s) => {
        if (d.startsWith('digest-') && crashes > 0) {
          crashes--;
          throw new Error('worker process killed');
        }
        return inner.markPosted(d, dest, k, s);
      },
    }));
    const first = many(12, 'burst');
    for (const f of first) await t.deliver(f);
    await expect(t.runTimer()).rejects.toThrow('worker process killed');
    const id = digestId(first);
    expect(await t.inner.get(id, 'teams')).toMatchObject({ status: 'posting' });
    for (const f of first) expect(await t.inner.get(f.id, 'teams')).toMatchObject({ status: 'pending' });

    // Two more findings arrive before the next minute.
    const later = many(2, 'later');
    for (const f of later) await t.deliver(f);
    const report = await t.runTimer();
    expect(report.failed).toBe(0);

    const requests = receiver.requests.filter((r) => r.path === t.teams);
    const digestPosts = requests.filter((r) => r.idempotencyKey === idempotencyKey(id, 'teams'));
    expect(digestPosts).toHaveLength(2); // the original and the retry, with the same key
    expect(JSON.stringify(digestPosts[1]!.body)).toBe(JSON.stringify(digestPosts[0]!.body));
    const accepted = receiver.acceptedAt(t.teams);
    expect(accepted.map((r) => r.idempotencyKey).sort()).toEqual([idempotencyKey(id, 'teams'), ...later.map((f) => idempotencyKey(f.id, 'teams'))].sort());
    expect(JSON.stringify(cardOf(accepted.find((r) => r.idempotencyKey === idempotencyKey(id, 'teams'))!.body))).toContain('12 findings');
    expect(requests).toHaveLength(4);
    for (const f of first) expect(await t.inner.get(f.id, 'teams')).toMatchObject({ status: 'posted', deliveredIn: id });
    for (const f of later) expect(await t.inner.get(f.id, 'teams')).toMatchObject({ status: 'posted' });
    expect(await t.inner.listPending('teams')).toEqual([]);
    expect(t.logs.join('\n')).toContain('an earlier attempt did not finish; posting again with the same Idempotency-Key');
  });

  it('a Teams webhook that keeps failing fails the run and leaves the cards pending for the next one', async () => {
    const t = setup();
    const findings = many(2, 'retry');
    for (const f of findings) await t.deliver(f);
    receiver.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    await expect(t.runTimer()).rejects.toThrow(/left pending for the next run/);
    expect(await t.inner.listPending('teams')).toHaveLength(1);
    await t.runTimer();
    expect(receiver.acceptedAt(t.teams).map((r) => r.idempotencyKey).sort()).toEqual(findings.map((f) => idempotencyKey(f.id, 'teams')));
    expect(await t.inner.listPending('teams')).toEqual([]);
    expect(t.logs.join('\n')).not.toContain(TEST_SIGNATURE);
  });

  it('a card Teams rejects (400) goes to findings-poison with its reason at once, leaves the pending list, and the next run posts nothing', async () => {
    const t = setup();
    const [f] = many(1, 'rejected');
    await t.deliver(f!);
    receiver.inject({ kind: 'status', status: 400 });
    const first = await t.runTimer();
    expect(first.failed).toBe(1);
    const poison = await t.poisoned();
    expect(poison).toHaveLength(1);
    expect(poison[0]).toMatchObject({ deliveryId: f!.id, findingIds: [f!.id], failures: [{ destination: 'teams', permanent: true }] });
    expect(poison[0]!.reason).toMatch(/teams: Teams webhook \(https:\/\/127\.0\.0\.1:\d+\) .*rejected with HTTP 400/);
    expect(await t.inner.listPending('teams')).toEqual([]);
    expect(await t.inner.get(f!.id, 'teams')).toMatchObject({ status: 'poisoned' });
    await t.runTimer();
    await t.deliver(f!, 2); // a redelivered message does not bring the card back
    await t.runTimer();
    expect(receiver.requests.filter((r) => r.path === t.teams)).toHaveLength(1);
    expect(`${t.logs.join('\n')}${JSON.stringify(poison)}`).not.toContain(TEST_SIGNATURE);
  });

  it('a Teams webhook failing transiently is given up after DELIVERY_MAX_ATTEMPTS timer runs (2 here), into findings-poison', async () => {
    const t = setup();
    const [f] = many(1, 'flaky');
    await t.deliver(f!);
    receiver.inject(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
    await expect(t.runTimer()).rejects.toThrow(/left pending for the next run/);
    expect(await t.poisoned()).toEqual([]);
    expect(await t.runTimer()).toMatchObject({ failed: 1 });
    const poison = await t.poisoned();
    expect(poison).toHaveLength(1);
    expect(poison[0]).toMatchObject({ dequeueCount: 2, findingIds: [f!.id], failures: [{ destination: 'teams', permanent: false }] });
    expect(await t.inner.listPending('teams')).toEqual([]);
  });

  it('the digest never downgrades posted to pending: a duplicate message that read the ledger before the timer settled leaves no second card', async () => {
    const t = setup();
    const [f] = many(1, 'dup');
    await t.deliver(f!);
    await t.runTimer();
    expect(await t.inner.get(f!.id, 'teams')).toMatchObject({ status: 'posted' });
    // The duplicate read "nothing yet" before the timer ran, and writes its card only now.
    await t.inner.markPending(f!.id, 'teams', idempotencyKey(f!.id, 'teams'), { message: '{}', summary: '{}' });
    expect(await t.inner.get(f!.id, 'teams')).toMatchObject({ status: 'posted' });
    await t.runTimer();
    expect(receiver.requests.filter((r) => r.path === t.teams)).toHaveLength(1);
    expect(await t.inner.listPending('teams')).toEqual([]);
  });

  it('the memory ledger keeps the same pending contract (11 findings over a threshold of 10: one digest; a redelivery adds nothing)', async () => {
    n++;
    const ledger = memoryLedger();
    const deliverer = createDeliverer({ teamsWebhookUrl: receiver.url(`/teams${n}`), ledger, pendingTeams: ledger, digestThreshold: 10, maxAttempts: 1, post: { sleep: async () => {} } });
    const findings = many(11, 'mem');
    const first = await deliverer.deliver(findings);
    expect(first).toMatchObject({ pending: 11, posted: 0, digest: false });
    expect((await deliverer.deliver(findings.slice(0, 2))).pending).toBe(0);
    expect(ledger.pending.size).toBe(11);
    expect(await deliverer.sendPendingTeams()).toMatchObject({ findings: 11, digest: true, posted: 1 });
    expect(receiver.acceptedAt(`/teams${n}`).map((r) => r.idempotencyKey)).toEqual([idempotencyKey(digestId(findings), 'teams')]);
    expect(ledger.pending.size).toBe(0);
    expect(await ledger.get(findings[0]!.id, 'teams')).toMatchObject({ status: 'posted', deliveredIn: digestId(findings) });
  });
});
