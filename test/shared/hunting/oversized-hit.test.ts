import type { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { hitFromRow } from '../../../shared/detections/index.js';
import { t1587003 } from '../../../shared/detections/definitions/t1587-003.js';
import { t1608003 } from '../../../shared/detections/definitions/t1608-003.js';
import type { Detection } from '../../../shared/detections/types.js';
import { huntDetection } from '../../../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../../../shared/hunting/log-analytics.js';
import type { Hit, Row } from '../../../shared/model.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { QueueHitSink, hitsOfMessage } from '../../../shared/state/hit-queue.js';
import { MemoryHuntState } from '../../../shared/state/hunt-state.js';
import { MemorySeenHits } from '../../../shared/state/seen-hits.js';
import { MAX_QUEUE_MESSAGE_BYTES, decodeQueueMessage, encodeQueueMessage, storageClients } from '../../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../../helpers/log-analytics-server.js';
import { sampleCefRows } from './t1608-rows.js';
import { fakeCredential } from './test-detection.js';
import { logAnalyticsSource } from '../../../shared/hunting/sources/hunt-source.js';

/**
 * Issue 13's reproducers: a subject an adversary chose, long enough that the hit repeating it
 * (row, indicators, certificate, reasons) does not fit a 64 KiB queue message. Before the shared
 * shrinker only row cells were cut, the send failed and the watermark never moved again.
 */
let azurite: AzuriteInstance;
let server: LogAnalyticsServer;
beforeAll(async () => {
  [azurite, server] = await Promise.all([startAzurite(), startLogAnalyticsServer()]);
});
afterAll(async () => {
  await Promise.all([azurite.stop(), server.close()]);
});

const queue = (name: string): QueueClient => storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.queue(name);

async function receiveHits(q: QueueClient): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (;;) {
    const got = await q.receiveMessages({ numberOfMessages: 32 });
    if (got.receivedMessageItems.length === 0) return hits;
    for (const m of got.receivedMessageItems) {
      expect(m.messageText.length).toBeLessThanOrEqual(MAX_QUEUE_MESSAGE_BYTES);
      hits.push(...(hitsOfMessage(decodeQueueMessage(m.messageText)) as Hit[]));
    }
  }
}

/** A self-signed Palo Alto decryption row whose certificate names `cn` as subject, issuer and root. */
function selfSignedRow(cn: string): Row {
  const base = sampleCefRows().find((r) => String(r.AdditionalExtensions ?? '').includes('PanOSCommonName=')) as Row;
  return {
    ...base,
    TimeGenerated: '2026-03-01T11:00:00.000Z',
    DestinationHostName: 'c2.evil.example',
    AdditionalExtensions: `PanOSTLSVersion=TLS1.2;PanOSCommonName=${cn};PanOSIssuerCommonName=${cn};PanOSRootCommonName=${cn};PanOSCertificateSerial=01`,
  };
}

describe('a hit repeating a huge adversary-chosen subject', () => {
  it('T1608.003, CN of 5,335 characters: the hunt queues it (shrunk) and moves the watermark', async () => {
    const cn = `${'a'.repeat(5_335 - '.evil.example'.length)}.evil.example`;
    const row = selfSignedRow(cn);
    const whole = hitFromRow(t1608003 as unknown as Detection, row, DEFAULT_TUNING) as Hit;
    expect(whole).not.toBeNull(); // the evaluator flags it
    expect(encodeQueueMessage(whole).length).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES); // the reproducer really is too big

    const clock = new Date('2026-03-01T12:00:00Z');
    server.now = () => clock;
    // The raw row: the server executes the hunt's KQL over it.
    server.tables = { CommonSecurityLog: [{ row, ingestedAt: new Date('2026-03-01T11:00:00Z') }] };
    const hits = queue('oversized-hits');
    const state = new MemoryHuntState();
    const r = await huntDetection(t1608003 as unknown as Detection, {
      source: logAnalyticsSource(createLogsQueryClient(fakeCredential(), { endpoint: server.endpoint, retry: { maxRetries: 0 } }), '11111111-2222-3333-4444-555555555555'),
      state,
      seen: new MemorySeenHits(),
      sink: new QueueHitSink(hits, queue('oversized-hits-deadletter')),
      tuning: DEFAULT_TUNING,
      settings: { overlapMs: 600_000, ingestionDelayMs: 300_000, maxWindowMs: 6 * 3_600_000, initialLookbackMs: 86_400_000, seenHitTtlMs: 86_400_000 },
      now: () => clock,
    });
    expect(r).toMatchObject({ status: 'ok', newHits: 1, deadLetters: 0, watermark: '2026-03-01T11:55:00.000Z' });
    expect((await state.getWatermark('T1608.003'))?.value.toISOString()).toBe('2026-03-01T11:55:00.000Z');
    const [queued] = await receiveHits(hits);
    expect(queued).toMatchObject({ detectionId: 'T1608.003', key: whole.key, time: whole.time });
    expect(JSON.stringify(queued)).toMatch(/…\[cut from \d+ chars\]/);
  });

  it('T1587.003, openssl req -x509 -subj "/CN=<9,600 x>": queued whole-keyed and shrunk, nothing dead-lettered', async () => {
    const row: Row = {
      TimeGenerated: '2026-11-20T12:00:00.000Z',
      DeviceId: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
      DeviceName: 'dev-ws-042',
      ActionType: 'ProcessCreated',
      AccountDomain: 'contoso',
      AccountName: 'alice',
      FileName: 'openssl',
      FolderPath: '/usr/bin/openssl',
      ProcessCommandLine: `openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj "/CN=${'x'.repeat(9_600)}"`,
      SHA1: '04c5d2b4da9a0f3fa8a45702d4256cee42d8c48d',
      InitiatingProcessFileName: 'bash',
      InitiatingProcessCommandLine: 'bash',
      InitiatingProcessParentFileName: 'sshd',
      ReportId: 7,
    };
    const hit = hitFromRow(t1587003 as unknown as Detection, row, DEFAULT_TUNING) as Hit;
    expect(hit).not.toBeNull();
    expect(encodeQueueMessage(hit).length).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);
    const hits = queue('oversized-1587');
    const dead = await new QueueHitSink(hits, queue('oversized-1587-deadletter')).send([hit]);
    expect(dead).toEqual([]);
    const [queued] = await receiveHits(hits);
    expect(queued).toMatchObject({ detectionId: 'T1587.003', key: hit.key });
  });
});
