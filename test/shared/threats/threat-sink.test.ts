import type { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnrichHitsHandler } from '../../../functions/enrich-hits.js';
import { loadConfig } from '../../../shared/config.js';
import { t1608003 } from '../../../shared/detections/definitions/t1608-003.js';
import { huntDetection } from '../../../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../../../shared/hunting/log-analytics.js';
import { logAnalyticsSource } from '../../../shared/hunting/sources/hunt-source.js';
import type { Finding } from '../../../shared/model.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { QueueHitSink, parseHitMessages } from '../../../shared/state/hit-queue.js';
import { MemoryHuntState } from '../../../shared/state/hunt-state.js';
import { KNOWN_THREATS_TABLE, TableKnownThreats } from '../../../shared/state/known-threats.js';
import { MemorySeenHits } from '../../../shared/state/seen-hits.js';
import { type StorageClients, decodeQueueMessage, storageClients } from '../../../shared/state/storage.js';
import { ThreatHitSink } from '../../../shared/threats/threat-sink.js';
import { DEFAULT_THREAT_SETTINGS } from '../../../shared/threats/track-threats.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../../helpers/log-analytics-server.js';
import { zeekRows } from '../detections/fixtures/datasets.js';
import { resumedSessions } from './fixtures.js';
import { fakeCredential } from '../hunting/test-detection.js';

/**
 * The timer hunt's path with threats: Log Analytics (local stand-in) → huntDetection → the threat
 * sink → the real "hits" queue on Azurite, one message per threat, known threats in Azurite
 * tables → the enrich-hits handler turns the message into a finding with the threat's fields.
 * The rows are the real NASHUA sessions, moved to this morning (Log Analytics filters on TimeGenerated).
 */

const MIN = 60_000;
let azurite: AzuriteInstance;
let la: LogAnalyticsServer;
let storage: StorageClients;
beforeAll(async () => {
  azurite = await startAzurite();
  la = await startLogAnalyticsServer();
  storage = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!;
});
afterAll(async () => {
  await la.close();
  await azurite.stop();
});

async function drain(queueName: string): Promise<unknown[]> {
  const queue = storage.queue(queueName);
  const out: unknown[] = [];
  for (;;) {
    const { receivedMessageItems: items } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (items.length === 0) return out;
    for (const m of items) {
      // Whatever form the message takes (bare hit, {hits}, {hitsGzip}), the consumer's reader gives its hits.
      out.push(...parseHitMessages(m.messageText));
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

describe('timer hunt → threat sink → hits queue', () => {
  it('sends one message per threat; the next run sends an update of the same threat, which enrich-hits makes a finding of', async () => {
    const shift = Date.parse('2026-03-01T10:00:00Z') - Date.parse('2020-04-30T00:40:44.736Z');
    // Raw CommonSecurityLog rows (the server runs the hunt's KQL over them); the adapter's text
    // ExternalID (the Zeek uid) is left out: the column is an int in CommonSecurityLog.
    const rows = zeekRows('NASHUA').map(({ ExternalID: _uid, ...r }) => ({ ...r, TimeGenerated: new Date(Date.parse(String(r.TimeGenerated)) + shift).toISOString() }));
    expect(rows).toHaveLength(376);
    // And 20 resumed sessions (no certificate) to the same C2, as Zeek logs them, in the second run's window.
    const resumed = resumedSessions(20, { shiftMs: 60_000 }).map(({ row: { ExternalID: _uid, ...r } }) => ({ ...r, TimeGenerated: new Date(Date.parse(String(r.TimeGenerated)) + shift).toISOString() }));
    let clock = new Date('2026-03-01T12:00:00Z');
    la.now = () => clock;
    // 300 rows ingested before the first run, 76 between the first and the second.
    la.tables = {
      CommonSecurityLog: [
        ...rows.map((row, i) => ({ row, ingestedAt: new Date(clock.getTime() - (i < 300 ? 60 : 2) * MIN) })),
        ...resumed.map((row) => ({ row, ingestedAt: new Date(clock.getTime() - 2 * MIN) })),
      ],
    };
    const hitsQueue = `hits${Math.floor(Math.random() * 1e9)}`;
    const sink = new ThreatHitSink(new QueueHitSink(storage.queue(hitsQueue)), new TableKnownThreats(storage.table(`${KNOWN_THREATS_TABLE}${Math.floor(Math.random() * 1e9)}`), 'functions'), DEFAULT_THREAT_SETTINGS);
    const deps = {
      source: logAnalyticsSource(createLogsQueryClient(fakeCredential(), { endpoint: la.endpoint, retry: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 5 } }), '11111111-2222-3333-4444-555555555555'),
      state: new MemoryHuntState(),
      seen: new MemorySeenHits(),
      sink,
      tuning: DEFAULT_TUNING,
      settings: { overlapMs: 10 * MIN, ingestionDelayMs: 5 * MIN, maxWindowMs: 6 * 60 * MIN, initialLookbackMs: 24 * 60 * MIN, seenHitTtlMs: 7 * 86_400_000 },
      now: () => clock,
    };

    const first = await huntDetection(t1608003, deps);
    expect(first).toMatchObject({ status: 'ok', hits: 300, newHits: 300 });
    const firstMessages = (await drain(hitsQueue)) as Array<{ threat: { id: string; occurrences: number; update?: unknown } }>;
    expect(firstMessages).toHaveLength(1); // one threat, one hit on the queue
    expect(firstMessages[0]!.threat).toMatchObject({ occurrences: 300 });
    expect(firstMessages[0]!.threat.update).toBeUndefined();

    clock = new Date(clock.getTime() + 15 * MIN);
    const second = await huntDetection(t1608003, deps);
    // The query marks the resumed sessions (SessionWithoutCertificate); they travel with the C2's threat.
    expect(second).toMatchObject({ status: 'ok', newHits: 96 });
    expect(la.evaluationErrors).toEqual([]);
    const secondMessages = await drain(hitsQueue);
    expect(secondMessages).toHaveLength(1);

    // The consumer: the message → a finding that says it updates the threat of the first one.
    const enqueued: string[] = [];
    const findingsQueue = { sendMessage: async (m: string) => void enqueued.push(m), createIfNotExists: async () => ({}) };
    const handler = makeEnrichHitsHandler(() => ({
      enricher: { enrich: async () => ({ missing: [], enrichedAt: clock.toISOString() }) },
      tuning: DEFAULT_TUNING,
      findings: findingsQueue as never,
      ledger: storage.table(`enrichledger${Math.floor(Math.random() * 1e9)}`),
      now: () => clock,
    }));
    await handler(JSON.stringify(secondMessages[0]), { log: () => {}, warn: () => {}, error: () => {} } as unknown as InvocationContext);
    const finding = decodeQueueMessage(enqueued[0]!) as Finding;
    expect(finding.hit.threat?.withoutCertificate).toBe(20);
    expect(finding).toMatchObject({ threatId: firstMessages[0]!.threat.id, occurrences: 396, firstSeen: '2026-03-01T10:00:00.000Z', lastSeen: new Date(Date.parse('2020-04-30T00:44:44.752Z') + shift).toISOString() });
    expect(finding.update).toMatchObject({ newOccurrences: 96, previousOccurrences: 300, material: false });
    expect(finding.sources.hosts).toEqual([{ name: '10.0.1.6', count: 396 }]);
  });
});
