import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnrichDeps, makeEnrichHandler } from '../../functions/enrich.js';
import { getDetection } from '../../shared/detections/index.js';
import { hitsFromAlertCustomDetails } from '../../shared/detections/sentinel-custom-details.js';
import { detectionCustomDetails, enrichmentColumns } from '../../shared/detections/sentinel-rule.js';
import { createCrtshClient } from '../../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import type { Finding, Row } from '../../shared/model.js';
import { parseTuning } from '../../shared/scoring/tuning.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { INCIDENT_PAYLOAD } from '../helpers/sentinel-incident.js';
import { T1588_004_SCENARIOS } from '../shared/detections/definitions/t1588-004.scenarios.js';

/**
 * Rules mode: an incident from certsoar's T1588.004 rule. Its alert carries the rule's custom
 * details as Sentinel stores them ("Custom Details" in the alert's extended properties, JSON, each
 * value an array of strings); POST /api/enrich turns them back into the detection's own hit.
 */
const ROW = T1588_004_SCENARIOS[0]!.row;

/** The custom details the rule defines, valued as Sentinel would from the query's result row. */
function customDetailsFor(detectionId: string, row: Row): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, column] of Object.entries(detectionCustomDetails(getDetection(detectionId)))) {
    const value = column === 'CertsoarDetectionId' ? detectionId : column === 'CertsoarThreatKey' ? `${detectionId}|x` : row[column];
    if (value !== undefined && value !== null) out[key] = [String(value)];
  }
  return out;
}

const incidentWithAlert = (details: Record<string, string[]>) => ({
  ...INCIDENT_PAYLOAD,
  object: {
    ...INCIDENT_PAYLOAD.object,
    properties: {
      ...INCIDENT_PAYLOAD.object.properties,
      Alerts: [{ properties: { alertDisplayName: 'certsoar T1588.004', additionalData: { 'Custom Details': JSON.stringify(details) } } }],
    },
  },
});

let crtsh: CrtshStandIn;
beforeAll(async () => {
  crtsh = await startCrtshStandIn();
});
afterAll(() => crtsh.stop());

describe('POST /api/enrich with an incident from a rules-mode analytics rule', () => {
  it('reads the row back from the alert custom details', () => {
    const hits = hitsFromAlertCustomDetails(incidentWithAlert(customDetailsFor('T1588.004', ROW)));
    expect(hits).toHaveLength(1);
    expect(hits[0]!.detectionId).toBe('T1588.004');
    for (const column of enrichmentColumns(getDetection('T1588.004'))) expect(hits[0]!.row[column], column).toBe(ROW[column] === undefined ? undefined : String(ROW[column]));
    // an incident whose alerts have no certsoar details gives none
    expect(hitsFromAlertCustomDetails(INCIDENT_PAYLOAD)).toEqual([]);
  });

  it('scores the incident with the detection\'s own signals and keeps the incident for write-back', async () => {
    const NOW = new Date('2026-11-21T00:00:00Z');
    const deps: EnrichDeps = {
      enricher: createEnricher({ crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 1, maxAttempts: 1, sleep: async () => {}, now: () => NOW }), now: () => NOW }),
      tuning: parseTuning({}),
      maxBodyBytes: 65_536,
      maxJsonDepth: 64,
      deadlineMs: 20_000,
      now: () => NOW,
    };
    const context = new InvocationContext({ functionName: 'enrich', invocationId: 't', logHandler: () => {} });
    const body = JSON.stringify(incidentWithAlert(customDetailsFor('T1588.004', ROW)));
    const res = await makeEnrichHandler(() => deps)(new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/enrich', body: { string: body } }), context);
    expect(res.status).toBe(200);
    const { findings } = res.jsonBody as { findings: Finding[] };
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.hit.detectionId).toBe('T1588.004');
    expect(f.hit.signals.map((s) => s.id).sort()).toEqual(['root_store_write', 'script_host_writer']);
    expect(f.hit.incident?.incidentNumber).toBe(412);
    expect(f.level).toBe('High');
  });
});
