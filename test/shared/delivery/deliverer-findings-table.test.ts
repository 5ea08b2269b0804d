import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverer, delivererFromConfig } from '../../../shared/delivery/deliverer.js';
import { logsIngestionFindingsTable } from '../../../shared/delivery/logs-ingestion.js';
import { FINDINGS_STREAM } from '../../../shared/delivery/logs-ingestion-row.js';
import { loadConfig } from '../../../shared/config.js';
import { memoryLedger } from '../../../shared/state/delivery-ledger.js';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '../../helpers/logs-ingestion-stand-in.js';
import { fakeCredential, sampleFinding } from './fixtures.js';

const RULE_ID = 'dcr-ffeeddccbbaa99887766554433221100';

describe('hunts mode: the deliverer sends findings to CertsoarFindings_CL', () => {
  let standIn: LogsIngestionStandIn;
  beforeAll(async () => {
    standIn = await startLogsIngestionStandIn({ ruleId: RULE_ID, stream: FINDINGS_STREAM });
  });
  afterAll(async () => standIn.close());

  it('one row per live finding; none for a suppressed one or one that came from a Sentinel incident; a redelivery sends nothing again', async () => {
    const ledger = memoryLedger();
    const deliverer = createDeliverer({
      findingsTable: logsIngestionFindingsTable({ endpoint: standIn.endpoint, ruleId: RULE_ID, credential: fakeCredential }),
      ledger,
      digestThreshold: 10,
      maxAttempts: 3,
    });
    const live = sampleFinding({ id: 'live-1' });
    const suppressed = { ...sampleFinding({ id: 'suppressed-1' }), suppressedBy: { rule: 'internal-ca', reason: 'issuer is the internal CA' } };
    const fromIncident = sampleFinding({ id: 'incident-1' });
    fromIncident.hit = { ...fromIncident.hit, incident: { armId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/Incidents/i' } };
    const report = await deliverer.deliver([live, suppressed, fromIncident]);
    expect(report.results.filter((r) => r.destination === 'findings-table')).toEqual([{ deliveryId: 'live-1', destination: 'findings-table', status: 'posted', attempts: 1 }]);
    expect(standIn.accepted.map((r) => r['FindingId'])).toEqual(['live-1']);

    const again = await deliverer.deliver([live]);
    expect(again.results.find((r) => r.destination === 'findings-table')?.status).toBe('skipped');
    expect(standIn.accepted).toHaveLength(1);
  });

  it('is switched on by LOGS_INGESTION_ENDPOINT and LOGS_INGESTION_RULE_ID, and off without them', async () => {
    const on = delivererFromConfig(loadConfig({ LOGS_INGESTION_ENDPOINT: standIn.endpoint, LOGS_INGESTION_RULE_ID: RULE_ID }), fakeCredential);
    const before = standIn.accepted.length;
    const report = await on.deliver([sampleFinding({ id: 'config-1' })]);
    expect(report.results.find((r) => r.destination === 'findings-table')?.status).toBe('posted');
    expect(standIn.accepted.length).toBe(before + 1);
    const off = delivererFromConfig(loadConfig({}), fakeCredential);
    const offReport = await off.deliver([sampleFinding({ id: 'config-2' })]);
    expect(offReport.results.filter((r) => r.destination === 'findings-table')).toEqual([]);
    expect(standIn.accepted.length).toBe(before + 1);
  });

  it('rejects a rule id that is not a DCR immutable id, naming the setting', () => {
    expect(() => loadConfig({ LOGS_INGESTION_RULE_ID: '/subscriptions/x/dataCollectionRules/y' })).toThrow(/LOGS_INGESTION_RULE_ID/);
    expect(() => loadConfig({ DETECTION_MODE: 'both' })).toThrow(/DETECTION_MODE/);
  });
});
