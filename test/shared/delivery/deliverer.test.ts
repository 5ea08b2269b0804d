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
      // The crash tests redeliver at once; a real redelivery comes after the crashed worker's lease.
      claimLeaseMs: 1,
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

  it('a finding from a Sentinel incident gets a Teams card but no second incident', async () => {
    const [fromIncident, fromHunt] = many(2);
    fromIncident!.hit.incident = {
      armId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/incidents/1f0c4a52-6d1e-4c55-9a3e-1b2c3d4e5f60',
      incidentNumber: 7,
    };
    const report = await deliverer(memoryLedger()).deliver([fromIncident!, fromHunt!]);
    expect(report.results.filter((r) => r.deliveryId === fromIncident!.id).map((r) => r.destination)).toEqual(['teams']);
    expect(receiver.acceptedAt('/incident').map((r) => r.idempotencyKey)).toEqual([idempotencyKey(fromHunt!.id, 'incident')]);
    expect(receiver.acceptedAt('/teams')).toHaveLength(2);
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
      markPosting: (d, dest, k, lease) => inner.markPosting(d, dest, k, lease),
      release: (d, dest) => inner.release(d, dest),
      markSuppressed: (d, dest, k, rule) => inner.markSuppressed(d, dest, k, rule),
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

describe('Deliverer: suppressed findings', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ tls: true });
  });
  afterAll(async () => receiver.stop());
  beforeEach(() => receiver.reset());

  const suppress = (f: Finding): Finding => ({ ...f, suppressedBy: { rule: 'tls-inspection-appliance', reason: 'certificate re-signed by a TLS-inspection appliance' } });
  const deliverer = (ledger: DeliveryLedger, log: string[], threshold = 10) =>
    createDeliverer({
      incidentWebhookUrl: receiver.url('/incident'),
      teamsWebhookUrl: receiver.url('/teams'),
      ledger,
      digestThreshold: threshold,
      maxAttempts: 3,
      post: { sleep: async () => {}, timeoutMs: 400 },
      log: (level, m) => log.push(`${level}: ${m}`),
    });

  it('never posts a suppressed finding; records it in the ledger with the rule, logs one line, reports it', async () => {
    const [a, b, c] = many(3);
    const hidden = suppress(b!);
    const ledger = memoryLedger();
    const log: string[] = [];
    const report = await deliverer(ledger, log).deliver([a!, hidden, c!]);

    expect(report).toMatchObject({ findings: 3, digest: false, posted: 4, skipped: 0, failed: 0 });
    expect(report.suppressed).toEqual([{ findingId: hidden.id, detectionId: 'T1608.003', rule: 'tls-inspection-appliance', reason: 'certificate re-signed by a TLS-inspection appliance' }]);
    expect(report.results.filter((r) => r.deliveryId === hidden.id).map((r) => `${r.destination}:${r.status}:${r.rule}`)).toEqual(['incident:suppressed:tls-inspection-appliance', 'teams:suppressed:tls-inspection-appliance']);
    // Nothing about it reached either webhook.
    expect(receiver.requests).toHaveLength(4);
    expect(JSON.stringify(receiver.requests.map((r) => r.body))).not.toContain(hidden.id);
    expect(receiver.requests.map((r) => r.idempotencyKey)).not.toContain(idempotencyKey(hidden.id, 'incident'));
    // Ledger: 'suppressed' with the rule, per webhook destination; the live ones 'posted'.
    for (const destination of ['incident', 'teams']) {
      expect(await ledger.get(hidden.id, destination)).toMatchObject({ status: 'suppressed', suppressedBy: 'tls-inspection-appliance' });
      expect((await ledger.get(a!.id, destination))?.status).toBe('posted');
    }
    // One log line naming finding, detection and rule.
    const lines = log.filter((l) => l.includes(hidden.id));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`${hidden.id}.*T1608\\.003.*tls-inspection-appliance`));
  });

  it('a redelivered batch posts nothing again and keeps the suppression recorded (exactly once)', async () => {
    const findings = [...many(2), suppress(many(3)[2]!)];
    const ledger = memoryLedger();
    await deliverer(ledger, []).deliver(findings);
    const again = await deliverer(ledger, []).deliver(findings);
    expect(again).toMatchObject({ posted: 0, skipped: 4, failed: 0 });
    expect(again.suppressed.map((s) => s.findingId)).toEqual([findings[2]!.id]);
    expect(receiver.requests).toHaveLength(4);
    expect(receiver.acceptedAt('/incident')).toHaveLength(2);
    expect(receiver.acceptedAt('/teams')).toHaveLength(2);
    expect((await ledger.get(findings[2]!.id, 'incident'))?.status).toBe('suppressed');
  });

  it('a finding posted before a rule suppressed it stays posted (skipped, not re-recorded)', async () => {
    const [f] = many(1);
    const ledger = memoryLedger();
    await deliverer(ledger, []).deliver([f!]);
    const later = await deliverer(ledger, []).deliver([suppress(f!)]);
    expect(later.results.map((r) => `${r.destination}:${r.status}`)).toEqual(['incident:skipped', 'teams:skipped']);
    expect((await ledger.get(f!.id, 'incident'))?.status).toBe('posted');
    expect(receiver.requests).toHaveLength(2);
  });

  it('the digest threshold counts live findings only, and the digest leaves suppressed ones out', async () => {
    const findings = many(14);
    const hidden = [2, 5, 8, 11].map((i) => suppress(findings[i]!));
    const mixed = findings.map((f, i) => hidden.find((h) => h.id === f.id) ?? findings[i]!);
    // 10 live at threshold 10: one card each, no digest.
    const noDigest = await deliverer(memoryLedger(), [], 10).deliver(mixed);
    expect(noDigest.digest).toBe(false);
    expect(receiver.acceptedAt('/teams')).toHaveLength(10);
    expect(receiver.acceptedAt('/incident')).toHaveLength(10);
    receiver.reset();
    // 10 live above threshold 9: one digest of the 10 live findings.
    const withDigest = await deliverer(memoryLedger(), [], 9).deliver(mixed);
    expect(withDigest.digest).toBe(true);
    const teams = receiver.acceptedAt('/teams');
    expect(teams).toHaveLength(1);
    const card = JSON.stringify(teams[0]!.body);
    expect(card).toContain('10 findings');
    for (const h of hidden) expect(card).not.toContain(h.hit.entities.destinationHost);
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

  it('a suppressed finding from an incident gets the comment saying why, never a higher severity, and no webhook post', async () => {
    const { startArmStandIn, incidentArmId } = await import('../../helpers/arm-stand-in.js');
    const { sentinelWriteBack, commentIdFor } = await import('../../../shared/delivery/sentinel.js');
    const { fakeCredential, TOKEN } = await import('./fixtures.js');
    const [arm, receiver] = await Promise.all([startArmStandIn({ token: TOKEN }), startWebhookReceiver({ tls: true })]);
    try {
      const armId = incidentArmId('inc-suppressed');
      arm.addIncident(armId, { severity: 'Low' });
      const ledger = memoryLedger();
      const log: string[] = [];
      const d = createDeliverer({
        incidentWebhookUrl: receiver.url('/incident'),
        teamsWebhookUrl: receiver.url('/teams'),
        sentinel: sentinelWriteBack({ armEndpoint: arm.endpoint, credential: fakeCredential, label: 'certsoar', workspaceResourceId: armId.split('/providers/Microsoft.SecurityInsights')[0]! }),
        ledger,
        digestThreshold: 10,
        maxAttempts: 2,
        post: { sleep: async () => {}, timeoutMs: 400 },
        log: (level, m) => log.push(`${level}: ${m}`),
      });
      const finding = sampleFinding({ id: 'suppressed-from-incident', level: 'High', score: 9, suppressedBy: { rule: 'tls-inspection-appliance', reason: 'certificate re-signed by a TLS-inspection appliance' } });
      finding.hit.incident = { armId };

      const first = await d.deliver([finding]);
      expect(first.results.map((r) => `${r.destination}:${r.status}`)).toEqual(['incident:suppressed', 'teams:suppressed', 'sentinel:posted']);
      expect(first.suppressed.map((s) => s.rule)).toEqual(['tls-inspection-appliance']);
      expect(receiver.requests).toHaveLength(0);
      const comment = arm.comments.get(armId)?.get(commentIdFor(finding.id));
      expect(comment?.message).toContain('Suppressed by tls-inspection-appliance: certificate re-signed by a TLS-inspection appliance');
      expect(arm.incidents.get(armId)!.properties.severity).toBe('Low');
      expect((await ledger.get(finding.id, 'sentinel'))?.status).toBe('posted');

      // Redelivered: the write-back is not repeated, the webhooks still get nothing.
      const callsBefore = arm.calls.length;
      const second = await d.deliver([finding]);
      expect(second.results.map((r) => `${r.destination}:${r.status}`)).toEqual(['incident:suppressed', 'teams:suppressed', 'sentinel:skipped']);
      expect(arm.calls.length).toBe(callsBefore);
      expect(receiver.requests).toHaveLength(0);
      expect(arm.incidents.get(armId)!.properties.severity).toBe('Low');
    } finally {
      await Promise.all([arm.stop(), receiver.stop()]);
    }
  });
});
