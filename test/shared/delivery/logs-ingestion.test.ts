import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverToFindingsTable, logsIngestionFindingsTable } from '../../../shared/delivery/logs-ingestion.js';
import { FINDINGS_STREAM } from '../../../shared/delivery/logs-ingestion-row.js';
import type { Finding } from '../../../shared/model.js';
import { memoryLedger } from '../../../shared/state/delivery-ledger.js';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '../../helpers/logs-ingestion-stand-in.js';
import { fakeCredential, sampleFinding } from './fixtures.js';

const RULE_ID = 'dcr-00112233445566778899aabbccddeeff';

/** n findings with distinct ids, each ~`pad` bytes of reasons so batching by size can be seen. */
function findings(n: number, pad = 0): Finding[] {
  return Array.from({ length: n }, (_, i) => {
    const f = sampleFinding({ id: `f-${String(i).padStart(5, '0')}` });
    return pad > 0 ? { ...f, reasons: [{ id: 'pad', points: 0, reason: `r${i} ${'x'.repeat(pad)}` }] } : f;
  });
}

describe('findings through the real @azure/monitor-ingestion client to a Logs Ingestion stand-in on loopback', () => {
  let standIn: LogsIngestionStandIn;
  beforeAll(async () => {
    standIn = await startLogsIngestionStandIn({ ruleId: RULE_ID, stream: FINDINGS_STREAM });
  });
  afterAll(async () => standIn.close());

  const table = () =>
    logsIngestionFindingsTable({
      endpoint: standIn.endpoint,
      ruleId: RULE_ID,
      credential: fakeCredential,
      clientOptions: { retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 200, maxRetries: 3 } },
    });
  const reset = () => {
    standIn.accepted.length = 0;
    standIn.calls.length = 0;
    standIn.faults.length = 0;
    delete standIn.failFindingId;
  };

  it('batches under the 1 MB limit, gzipped, with a bearer token, and every row arrives once', async () => {
    reset();
    const batch = findings(600, 3_000); // ~2 MB of rows
    const outcome = await table().send(batch);
    expect(outcome.failed).toEqual([]);
    expect(outcome.sent).toHaveLength(600);
    const ok = standIn.calls.filter((c) => c.status === 204);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    for (const c of ok) {
      expect(c.gzip).toBe(true);
      expect(c.bytes).toBeLessThanOrEqual(1_000_000);
      expect(c.authorization).toBe('Bearer fake-arm-token');
    }
    const ids = standIn.accepted.map((r) => r['FindingId']);
    expect(new Set(ids).size).toBe(600);
    expect(ids.length).toBe(600);
  });

  it('rides out 429 with Retry-After and 5xx: nothing lost, nothing sent twice', async () => {
    reset();
    standIn.faults.push({ kind: 'throttle', retryAfterSeconds: 1 }, { kind: 'server-error', status: 503 }, { kind: 'server-error', status: 500 });
    const started = Date.now();
    const outcome = await table().send(findings(50));
    expect(outcome.failed).toEqual([]);
    expect(standIn.calls.map((c) => c.status)).toEqual([429, 503, 500, 204]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // Retry-After: 1 was honoured
    expect(standIn.accepted.map((r) => r['FindingId']).sort()).toEqual(findings(50).map((f) => f.id).sort());
  });

  it('a batch that keeps failing is reported with exactly its findings, and only those are sent again', async () => {
    reset();
    const batch = findings(600, 3_000);
    standIn.failFindingId = 'f-00000'; // the first ~1 MB batch fails every retry
    const ledger = memoryLedger();
    const log: string[] = [];
    const first = await deliverToFindingsTable(batch, table(), ledger, (_l, m) => log.push(m));
    const failed = first.filter((r) => r.status === 'failed').map((r) => r.deliveryId);
    const posted = first.filter((r) => r.status === 'posted').map((r) => r.deliveryId);
    expect(failed).toContain('f-00000');
    expect(failed.length + posted.length).toBe(600);
    expect(posted.length).toBeGreaterThan(0);
    expect(new Set(standIn.accepted.map((r) => r['FindingId']))).toEqual(new Set(posted));

    // The service recovers; the redelivery sends the failed rows only.
    delete standIn.failFindingId;
    const second = await deliverToFindingsTable(batch, table(), ledger, () => {});
    expect(second.filter((r) => r.status === 'skipped').map((r) => r.deliveryId).sort()).toEqual(posted.sort());
    expect(second.filter((r) => r.status === 'posted').map((r) => r.deliveryId).sort()).toEqual(failed.sort());
    const ids = standIn.accepted.map((r) => r['FindingId']);
    expect(ids.length).toBe(600);
    expect(new Set(ids).size).toBe(600);
    expect(log.join('\n')).not.toContain('fake-arm-token');
  });
});
