import { HttpRequest, InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnrichHandler } from '../../functions/enrich.js';
import { createCrtshClient } from '../../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import type { Finding } from '../../shared/model.js';
import { parseTuning } from '../../shared/scoring/tuning.js';
import { decodeQueueMessage } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { type CrtshStandIn, dataset, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { INCIDENT_PAYLOAD } from '../helpers/sentinel-incident.js';

let azurite: AzuriteInstance;
let crtsh: CrtshStandIn;
beforeAll(async () => {
  [azurite, crtsh] = await Promise.all([startAzurite(), startCrtshStandIn()]);
  crtsh.setHistory('example.com', dataset('example.com.json'));
});
afterAll(async () => {
  await Promise.all([azurite.stop(), crtsh.stop()]);
});

const NOW = new Date('2023-01-20T00:00:00Z');

function handler(findings: QueueClient) {
  return makeEnrichHandler(() => ({
    enricher: createEnricher({
      crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 3, maxAttempts: 1, sleep: async () => {}, now: () => NOW }),
      now: () => NOW,
    }),
    tuning: parseTuning({}),
    maxBodyBytes: 65_536,
    maxJsonDepth: 64,
    deadlineMs: 20_000,
    findings,
    now: () => NOW,
  }));
}

function capture(): { ctx: InvocationContext; lines: string[] } {
  const lines: string[] = [];
  return { ctx: new InvocationContext({ functionName: 'enrich', invocationId: 'wb', logHandler: (_l, ...a) => lines.push(a.join(' ')) }), lines };
}

const post = (body: unknown) => new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/enrich', body: { string: JSON.stringify(body) } });

describe('POST /api/enrich → incident write-back', () => {
  it('queues the findings of a Sentinel incident on "findings", and only those', async () => {
    const q = new QueueClient(azurite.connectionString, 'findings-wb1');
    const res = await handler(q)(post(INCIDENT_PAYLOAD), capture().ctx);
    expect(res.status).toBe(200);
    const body = res.jsonBody as { findings: Finding[]; writeBack: { queued: number; failed: number } };
    expect(body.writeBack).toEqual({ queued: body.findings.length, failed: 0 });
    const peeked = await q.receiveMessages({ numberOfMessages: 32 });
    const queuedIds = peeked.receivedMessageItems.map((m) => (decodeQueueMessage(m.messageText) as Finding).id).sort();
    expect(queuedIds).toEqual(body.findings.map((f) => f.id).sort());

    const bare = await handler(q)(post({ domain: 'www.example.com' }), capture().ctx);
    expect((bare.jsonBody as { writeBack?: unknown }).writeBack).toBeUndefined();
    expect((await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(0);
  });

  it('answers 200 with the findings when the queue is down, and says how many were not queued', async () => {
    const dead = new QueueClient('DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=' + 'A'.repeat(88) + ';QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;', 'findings', { retryOptions: { maxTries: 1 } });
    const { ctx, lines } = capture();
    const res = await handler(dead)(post(INCIDENT_PAYLOAD), ctx);
    expect(res.status).toBe(200);
    const body = res.jsonBody as { findings: Finding[]; writeBack: { queued: number; failed: number } };
    expect(body.findings.length).toBeGreaterThan(0);
    expect(body.writeBack).toEqual({ queued: 0, failed: body.findings.length });
    expect(lines.join('\n')).toContain('not queued for incident write-back');
  });
});
