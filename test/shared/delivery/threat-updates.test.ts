import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFindingCard } from '../../../shared/delivery/card.js';
import { createDeliverer } from '../../../shared/delivery/deliverer.js';
import { buildDigestCard } from '../../../shared/delivery/digest.js';
import { incidentPayloadSchema } from '../../../shared/delivery/incident-schema.js';
import { commentText } from '../../../shared/delivery/sentinel.js';
import type { Finding, ThreatUpdate } from '../../../shared/model.js';
import { memoryLedger } from '../../../shared/state/delivery-ledger.js';
import { type WebhookReceiver, startWebhookReceiver } from '../../helpers/webhook-receiver.js';
import { sampleFinding } from './fixtures.js';
import { cardProblems } from './validate-card.js';

/** A threat reported once, then updated twice: a plain update (more rows) and a material one (a new host). */
function threatHistory(): { reported: Finding; more: Finding; spread: Finding } {
  const reported = sampleFinding({ id: 'f-new', occurrences: 300 });
  const update = (id: string, u: Partial<ThreatUpdate>, extra: Partial<Finding>): Finding =>
    sampleFinding({
      id,
      ...extra,
      update: { firstReportedAt: '2026-11-20T10:16:00.000Z', newOccurrences: 76, previousOccurrences: 300, previousLastSeen: '2026-11-20T10:15:00.000Z', newSources: [], material: false, ...u },
    });
  const more = update('f-more', {}, { occurrences: 376, lastSeen: '2026-11-20T11:00:00.000Z' });
  const spread = update(
    'f-spread',
    { newOccurrences: 20, previousOccurrences: 376, newSources: ['WKS-0099'], material: true },
    { occurrences: 396, sources: { hosts: [{ name: 'WKS-0042', count: 376 }, { name: 'WKS-0099', count: 20 }], accounts: [], hostsOmitted: 0, accountsOmitted: 0 } },
  );
  return { reported, more, spread };
}

describe('delivering updates of a known threat', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ tls: true });
  });
  afterAll(async () => receiver.stop());
  beforeEach(() => receiver.reset());

  it('every update goes to the incident webhook as an update of the same threat; Teams hears only of the new threat and the material change', async () => {
    const { reported, more, spread } = threatHistory();
    const deliverer = createDeliverer({
      incidentWebhookUrl: receiver.url('/incident'),
      teamsWebhookUrl: receiver.url('/teams'),
      ledger: memoryLedger(),
      digestThreshold: 10,
      maxAttempts: 2,
      post: { sleep: async () => {}, timeoutMs: 400 },
    });
    const report = await deliverer.deliver([reported, more, spread]);
    expect(report.failed).toBe(0);

    const incidents = receiver.acceptedAt('/incident').map((r) => incidentPayloadSchema.parse(r.body));
    expect(incidents.map((p) => [p.findingId, p.threat?.kind, p.threat?.id, p.threat?.occurrences])).toEqual([
      ['f-new', 'new', reported.threatId, 300],
      ['f-more', 'update', reported.threatId, 376],
      ['f-spread', 'update', reported.threatId, 396],
    ]);
    expect(incidents[2]!.threat?.update).toMatchObject({ newSources: ['WKS-0099'], material: true, previousOccurrences: 376 });
    expect(incidents[2]!.threat?.sources.hosts).toEqual([{ name: 'WKS-0042', count: 376 }, { name: 'WKS-0099', count: 20 }]);

    const cards = receiver.acceptedAt('/teams').map((r) => JSON.stringify(r.body));
    expect(cards).toHaveLength(2);
    expect(cards[0]).not.toContain('Update of threat');
    expect(cards[1]).toContain(`Update of threat ${reported.threatId}`);
    expect(cards[1]).toContain('new sources: WKS-0099');
  });

  it('on the Functions path a plain update leaves no Teams card pending; a material one does', async () => {
    const { more, spread } = threatHistory();
    const ledger = memoryLedger();
    const deliverer = createDeliverer({
      incidentWebhookUrl: receiver.url('/incident'),
      teamsWebhookUrl: receiver.url('/teams'),
      ledger,
      pendingTeams: ledger,
      digestThreshold: 10,
      maxAttempts: 2,
      post: { sleep: async () => {}, timeoutMs: 400 },
    });
    expect((await deliverer.deliver([more])).pending).toBe(0);
    expect((await deliverer.deliver([spread])).pending).toBe(1);
    expect([...ledger.pending.values()].map((p) => p.findingId)).toEqual(['f-spread']);
    expect(receiver.acceptedAt('/incident')).toHaveLength(2);
  });

  it('the card shows occurrences, first and last seen and the sources, and stays a valid Adaptive Card', async () => {
    const { spread } = threatHistory();
    const card = buildFindingCard(spread);
    const facts = Object.fromEntries(card.body.flatMap((b) => (b.facts as Array<{ title: string; value: string }> | undefined) ?? []).map((f) => [f.title, f.value]));
    expect(facts).toMatchObject({ Occurrences: '396 rows', 'First seen': spread.firstSeen, 'Last seen': spread.lastSeen, 'Sources (hosts)': 'WKS-0042 ×376, WKS-0099 ×20' });
    expect(await cardProblems(card)).toEqual([]);
  });

  it('the digest card shows each threat with its rows and whether it is an update', async () => {
    const { reported, spread } = threatHistory();
    const card = buildDigestCard([reported, spread]);
    const json = JSON.stringify(card);
    expect(json).toContain('update-check.example-cdn.net ×300 rows"');
    expect(json).toContain('update-check.example-cdn.net ×396 rows (update)');
    expect(await cardProblems(card)).toEqual([]);
  });

  it('the Sentinel comment (rules mode write-back) names the threat, its rows and hosts, and the update', () => {
    const { spread } = threatHistory();
    const text = commentText(spread);
    expect(text).toContain(`Threat ${spread.threatId}: 396 rows, ${spread.firstSeen} to ${spread.lastSeen}; from WKS-0042 ×376, WKS-0099 ×20`);
    expect(text).toContain(`Update of threat ${spread.threatId}`);
  });
});
