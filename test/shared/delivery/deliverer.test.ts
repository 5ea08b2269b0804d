import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverer, idempotencyKey } from '../../../shared/delivery/deliverer.js';
import { incidentPayloadSchema } from '../../../shared/delivery/incident-schema.js';
import type { Finding } from '../../../shared/model.js';
import { type DeliveryLedger, memoryLedger } from '../../../shared/state/delivery-ledger.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../helpers/webhook-receiver.js';
import { cardProblems } from './validate-card.js';
import { sampleFinding } from './fixtures.js';

const many = (n: number): Finding[] =>
  Array.from({ length: n }, (_, i) => {
    const f = sampleFinding({ id: `finding-${String(i).padStart(3, '0')}`, level: i % 3 === 0 ? 'High' : 'Medium', score: 10 - (i % 5) });
    f.hit.entities.destinationHost = `host-${i}.example-cdn.net`;
    return f;
  });

describe('Deliverer', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ tls: true });
  });
  afterAll(async () => receiver.stop());
  beforeEach(() => receiver.reset());

  const deliverer = (ledger: DeliveryLedger, threshold = 10) =>
    createDeliverer({
      incidentWebhookUrl: receiver.url('/incident'),
      teamsWebhookUrl: receiver.url('/teams'),
      ledger,
      digestThreshold: threshold,
      maxAttempts: 3,
      post: { sleep: async () => {}, timeoutMs: 400 },
    });

  it('posts a valid incident payload and a Teams card per finding', async () => {
    const report = await deliverer(memoryLedger()).deliver(many(2));
    expect(report).toMatchObject({ findings: 2, digest: false, posted: 4, failed: 0, notConfigured: ['sentinel'] });
    const incidents = receiver.acceptedAt('/incident');
    expect(incidents).toHaveLength(2);
    for (const r of incidents) expect(incidentPayloadSchema.safeParse(r.body).success).toBe(true);
    expect(incidents[0]!.idempotencyKey).toBe(idempotencyKey('finding-000', 'incident'));
    const teams = receiver.acceptedAt('/teams');
    expect(teams).toHaveLength(2);
    expect((teams[0]!.body as { type: string }).type).toBe('message');
  });

  it('sends one digest card above the threshold, incidents still one per finding', async () => {
    const findings = many(25);
    const report = await deliverer(memoryLedger(), 10).deliver(findings);
    expect(report.digest).toBe(true);
    expect(receiver.acceptedAt('/incident')).toHaveLength(25);
    const teams = receiver.acceptedAt('/teams');
    expect(teams).toHaveLength(1);
    const card = (teams[0]!.body as { attachments: Array<{ content: unknown }> }).attachments[0]!.content;
    expect(JSON.stringify(card)).toContain('25 findings');
    expect(await cardProblems(card)).toEqual([]);
  });

  it('at the threshold exactly, still one card per finding', async () => {
    await deliverer(memoryLedger(), 3).deliver(many(3));
    expect(receiver.acceptedAt('/teams')).toHaveLength(3);
  });

  it('skips destinations the ledger says are posted (redelivery)', async () => {
    const ledger = memoryLedger();
    await deliverer(ledger).deliver(many(2));
    const again = await deliverer(ledger).deliver(many(2));
    expect(again).toMatchObject({ posted: 0, skipped: 4 });
    expect(receiver.requests).toHaveLength(4);
  });

  it('after a crash between post and mark, posts again with the same key and the receiver drops it', async () => {
    const inner = memoryLedger();
    let crash = true;
    const crashing: DeliveryLedger = {
      get: (d, dest) => inner.get(d, dest),
      markPosting: (d, dest, k) => inner.markPosting(d, dest, k),
      markPosted: async (d, dest, k, s) => {
        if (crash && dest === 'teams') {
          crash = false;
          throw new Error('process died');
        }
        return inner.markPosted(d, dest, k, s);
      },
    };
    const [f] = many(1);
    await expect(deliverer(crashing).deliver([f!])).rejects.toThrow('process died');
    expect((await inner.get(f!.id, 'teams'))?.status).toBe('posting');
    const retry = await deliverer(crashing).deliver([f!]);
    expect(retry.results.map((r) => `${r.destination}:${r.status}`)).toEqual(['incident:skipped', 'teams:posted']);
    expect(receiver.requests.filter((r) => r.path === '/teams')).toHaveLength(2);
    expect(receiver.acceptedAt('/teams')).toHaveLength(1);
    expect(receiver.duplicatesDropped).toBe(1);
  });

  it('reports a failing destination without blocking the others', async () => {
    receiver.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const report = await deliverer(memoryLedger()).deliver(many(1));
    expect(report.results.map((r) => `${r.destination}:${r.status}`)).toEqual(['incident:failed', 'teams:posted']);
    expect(report.results[0]!.error).toContain('HTTP 500');
    expect(report.results[0]!.error).not.toContain('sig=');
  });
});

describe('Deliverer with Sentinel write-back', () => {
  it('writes back once per finding from an incident; a redelivery skips it', async () => {
    const { startArmStandIn, incidentArmId } = await import('../../helpers/arm-stand-in.js');
    const { sentinelWriteBack } = await import('../../../shared/delivery/sentinel.js');
    const { fakeCredential, TOKEN } = await import('./fixtures.js');
    const arm = await startArmStandIn({ token: TOKEN });
    try {
      const armId = incidentArmId('inc-d1');
      arm.addIncident(armId, { severity: 'Medium' });
      const ledger = memoryLedger();
      const d = createDeliverer({
        sentinel: sentinelWriteBack({ armEndpoint: arm.endpoint, credential: fakeCredential, label: 'certsoar', workspaceResourceId: armId.split('/providers/Microsoft.SecurityInsights')[0]! }),
        ledger,
        digestThreshold: 10,
        maxAttempts: 2,
      });
      const withIncident = sampleFinding({ id: 'from-incident' });
      withIncident.hit.incident = { armId };
      const plain = sampleFinding({ id: 'from-hunt' });
      const first = await d.deliver([withIncident, plain]);
      expect(first.results.map((r) => `${r.deliveryId}:${r.destination}:${r.status}`)).toEqual(['from-incident:sentinel:posted']);
      expect(first.notConfigured).toEqual(['incident', 'teams']);
      expect(arm.incidents.get(armId)!.properties.severity).toBe('High');
      const callsBefore = arm.calls.length;
      const second = await d.deliver([withIncident]);
      expect(second.skipped).toBe(1);
      expect(arm.calls.length).toBe(callsBefore);

      const otherWorkspace = sampleFinding({ id: 'other-ws' });
      otherWorkspace.hit.incident = { armId: incidentArmId('inc-x', 'another-workspace') };
      const third = await d.deliver([otherWorkspace]);
      expect(third.results[0]).toMatchObject({ status: 'failed', permanent: true });
    } finally {
      await arm.stop();
    }
  });
});
