import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnrichDeps, makeEnrichHandler } from '../../functions/enrich.js';
import { t1608003 } from '../../shared/detections/definitions/t1608-003.js';
import { createCrtshClient } from '../../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import type { Finding } from '../../shared/model.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { createSiemHttp } from '../../shared/siem/siem-http.js';
import { qradarIntake } from '../../shared/siem/qradar-intake.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { type QradarStandIn, startQradarStandIn } from '../helpers/qradar-stand-in.js';
import { T1608_003_SCENARIOS } from '../shared/detections/definitions/t1608-003.scenarios.js';
import { invocationContext } from '../helpers/invocation-context.js';

/**
 * POST /api/enrich with the SIEM envelopes of issue 16: a Splunk alert payload is judged by the
 * detection its saved search names; a QRadar offense reference makes the function read the
 * offense and its events from QRadar (loopback stand-in) and judge them with the same evaluator.
 */
let crtsh: CrtshStandIn;
let qradar: QradarStandIn;
beforeAll(async () => {
  [crtsh, qradar] = await Promise.all([startCrtshStandIn(), startQradarStandIn()]);
  qradar.pollsToComplete = 1;
});
afterAll(async () => Promise.all([crtsh.stop(), qradar.close()]));

const NOW = new Date('2026-11-20T12:00:00Z');
const params = t1608003.paramsSchema.parse({});
const selfSigned = T1608_003_SCENARIOS.find((s) => s.expect?.signals.includes('self_signed') && !/san=/i.test(String(s.row.AdditionalExtensions ?? '')))!.row;

function handler(over: Partial<EnrichDeps> = {}) {
  const deps: EnrichDeps = {
    enricher: createEnricher({ crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 3, maxAttempts: 1, sleep: async () => {}, now: () => NOW }), now: () => NOW }),
    tuning: DEFAULT_TUNING,
    maxBodyBytes: 65_536,
    maxJsonDepth: 64,
    deadlineMs: 20_000,
    now: () => NOW,
    ...over,
  };
  return makeEnrichHandler(() => deps);
}
const context = () => invocationContext('enrich', { invocationId: 'siem' });
const post = (body: unknown) => new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/enrich', body: { string: JSON.stringify(body) } });
type Answer = { findings: Finding[]; skipped: Array<{ path: string; reason: string }> };

describe('POST /api/enrich with a Splunk alert', () => {
  it('scores the result row with the signals of the detection the saved search names', async () => {
    const res = await handler()(post({ sid: 'scheduler__x', search_name: 'certsoar T1608.003 sourcetypes', app: 'certsoar_detections', owner: 'admin', results_link: 'https://splunk.example:8000/x', result: selfSigned }), context());
    expect(res.status).toBe(200);
    const { findings } = res.jsonBody as Answer;
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reasons.map((r) => r.id)).toEqual(expect.arrayContaining(t1608003.evaluate(selfSigned, params)!.signals.map((s) => s.id)));
    expect(findings[0]!.hit.incident?.siem).toEqual({ kind: 'splunk', sid: 'scheduler__x', searchName: 'certsoar T1608.003 sourcetypes', resultsLink: 'https://splunk.example:8000/x' });
  });

  it('answers 400 naming search_name for a saved search that names no detection', async () => {
    const res = await handler()(post({ sid: 's', search_name: 'Some other alert', result: selfSigned }), context());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.jsonBody)).toContain('search_name');
  });
});

describe('POST /api/enrich with a QRadar offense reference', () => {
  it('reads the offense and its events through the API and scores each event with the detection the rule names', async () => {
    const e = t1608003.evaluate(selfSigned, params)!;
    qradar.offenses.set(4021, {
      offense: { id: 4021, description: 'certsoar T1608.003 Suspicious TLS certificate\n', start_time: Date.parse('2026-11-20T10:00:00Z'), last_updated_time: Date.parse('2026-11-20T10:30:00Z') },
      events: [
        { event: { EventTime: '2026-11-20 10:05:00', sourceip: selfSigned.SourceIP, destinationip: selfSigned.DestinationIP, destinationport: selfSigned.DestinationPort, 'TLS Subject': e.indicators.TLSSubject, 'TLS Issuer': e.indicators.TLSIssuer, 'TLS SNI': e.indicators.DestinationHost }, receivedAt: new Date('2026-11-20T10:05:00Z') },
        { event: { EventTime: '2026-11-20 10:06:00', sourceip: '10.0.0.9', destinationip: '198.51.100.1', destinationport: 443, 'TLS Subject': 'CN=www.example.org', 'TLS Issuer': 'CN=Some CA', 'TLS SNI': 'www.example.org' }, receivedAt: new Date('2026-11-20T10:06:00Z') },
      ],
    });
    const http = createSiemHttp({ baseUrl: qradar.baseUrl, headers: { SEC: qradar.token, Version: '20.0' }, timeoutMs: 5_000 });
    const res = await handler({ qradar: qradarIntake(http) })(post({ offense_id: 4021 }), context());
    expect(res.status).toBe(200);
    const { findings, skipped } = res.jsonBody as Answer;
    expect(findings).toHaveLength(1);
    expect(findings[0]!.hit.incident?.siem).toEqual({ kind: 'qradar', offenseId: 4021 });
    expect(findings[0]!.reasons.map((r) => r.id)).toContain('self_signed');
    expect(skipped).toEqual([{ path: 'offense_id.events[1]', reason: 'the event is not a T1608.003 hit' }]);
    expect(qradar.created.at(-1)?.aql).toContain('INOFFENSE(4021)');
  });

  it('answers 400 naming offense_id when QRadar is not configured, and for an offense QRadar does not have', async () => {
    const unconfigured = await handler()(post({ offense_id: 4021 }), context());
    expect(unconfigured.status).toBe(400);
    expect(JSON.stringify(unconfigured.jsonBody)).toMatch(/offense_id.*QRADAR_URL/);
    const http = createSiemHttp({ baseUrl: qradar.baseUrl, headers: { SEC: qradar.token, Version: '20.0' }, timeoutMs: 5_000 });
    const missing = await handler({ qradar: qradarIntake(http) })(post({ offense_id: 999 }), context());
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.jsonBody)).toMatch(/offense_id.*no offense 999/);
  });
});
