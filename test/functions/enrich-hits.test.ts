import { TableClient } from '@azure/data-tables';
import { InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnrichHitsDeps, makeEnrichHitsHandler } from '../../functions/enrich-hits.js';
import { fitForQueue } from '../../shared/state/findings-queue.js';
import { createCrtshClient } from '../../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import { ValidationError } from '../../shared/errors.js';
import type { Finding, Hit } from '../../shared/model.js';
import { findingId } from '../../shared/scoring/finding.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { decodeQueueMessage, encodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { type CrtshStandIn, dataset, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';

let azurite: AzuriteInstance;
let crtsh: CrtshStandIn;
let n = 0;
beforeAll(async () => {
  [azurite, crtsh] = await Promise.all([startAzurite(), startCrtshStandIn()]);
  crtsh.setHistory('example.com', dataset('example.com.json'));
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), crtsh?.stop()]);
});

function deps(): EnrichHitsDeps & { findingsQueue: QueueClient } {
  n++;
  const findings = new QueueClient(azurite.connectionString, `findings${n}`);
  return {
    enricher: createEnricher({ crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 2, maxAttempts: 1 }) }),
    tuning: DEFAULT_TUNING,
    findings,
    findingsQueue: findings,
    ledger: TableClient.fromConnectionString(azurite.connectionString, `enrichledger${n}`, { allowInsecureConnection: true }),
    now: () => new Date('2026-11-20T12:00:00Z'),
  };
}

const hit: Hit = {
  detectionId: 'T1608.003',
  key: 'k-123',
  time: '2026-11-20T10:00:00Z',
  row: { DestinationHostName: 'x.example.com' },
  signals: [{ id: 'self_signed', points: 3, reason: 'issuer equals subject' }],
  indicators: { IsSelfSigned: true },
  entities: { destinationHost: 'x.example.com', domains: ['x.example.com'] },
  certificate: { subject: 'CN=x.example.com', issuer: 'CN=x.example.com', selfSigned: true },
};
const context = () => new InvocationContext({ functionName: 'enrichHits', invocationId: 'i', logHandler: () => {} });

async function drain(queue: QueueClient): Promise<Finding[]> {
  const out: Finding[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return out;
    for (const m of receivedMessageItems) out.push(decodeQueueMessage(m.messageText) as Finding);
  }
}

describe('enrich-hits (queue "hits" → queue "findings")', () => {
  it('enriches, scores and enqueues a finding; a redelivered hit is not enqueued twice', async () => {
    const d = deps();
    const handle = makeEnrichHitsHandler(() => d);
    await handle(hit, context());
    await handle(encodeQueueMessage(hit), context()); // the same hit delivered again, base64 as the host may pass it
    const findings = await drain(d.findingsQueue);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.id).toBe(findingId(hit));
    expect(findings[0]!.enrichment.ct?.domain).toBe('example.com');
    expect(findings[0]!.reasons[0]!.id).toBe('self_signed');
  });

  it('a grouped message {hits: [...]} (what the hunt sends) yields one finding per hit; a bad hit is named by its place', async () => {
    const d = deps();
    const handle = makeEnrichHitsHandler(() => d);
    await handle(encodeQueueMessage({ hits: [{ ...hit, key: 'g1' }, { ...hit, key: 'g2' }] }), context());
    const findings = await drain(d.findingsQueue);
    expect(findings.map((f) => f.id).sort()).toEqual([findingId({ ...hit, key: 'g1' }), findingId({ ...hit, key: 'g2' })].sort());
    await expect(handle({ hits: [{ ...hit, key: 'g3' }, { ...hit, key: '' }] }, context())).rejects.toThrow(ValidationError);
    await expect(handle({ hits: [{ ...hit, key: 'g3' }, { ...hit, key: '' }] }, context())).rejects.toMatchObject({ problems: [expect.objectContaining({ path: 'hits.1.key' })] });
  });

  it('still produces the finding while crt.sh is down, marking the enrichment missing', async () => {
    crtsh.setPersistentFault({ kind: 'status', status: 503 });
    try {
      const d = deps();
      await makeEnrichHitsHandler(() => d)({ ...hit, key: 'k-down' }, context());
      const [finding] = await drain(d.findingsQueue);
      expect(finding!.enrichment.missing).toEqual([
        expect.objectContaining({ source: 'crtsh', retryable: true }),
        expect.objectContaining({ source: 'certificate_age', retryable: true }),
      ]);
      expect(finding!.score).toBe(3);
    } finally {
      crtsh.setPersistentFault(undefined);
    }
  });

  it('rejects a message that is not a hit, naming the field (it ends in the poison queue)', async () => {
    const d = deps();
    await expect(makeEnrichHitsHandler(() => d)({ ...hit, key: undefined }, context())).rejects.toThrow(ValidationError);
    await expect(makeEnrichHitsHandler(() => d)('not json', context())).rejects.toThrow(/not JSON/);
  });

  it('keeps findings under the queue message size', () => {
    const huge = { id: 'x', hit: { ...hit, row: { Blob: 'x'.repeat(200_000) } } } as unknown as Finding;
    const fitted = fitForQueue(huge);
    expect(encodeQueueMessage(fitted).length).toBeLessThanOrEqual(64 * 1024);
    expect(String(fitted.hit.row.Blob)).toMatch(/^x{4096}…\[cut from 200000 chars\]$/);
  });
});
