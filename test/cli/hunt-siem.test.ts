import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { aqlQuery } from '../../shared/detections/backends/aql.js';
import { splSearches } from '../../shared/detections/backends/spl.js';
import { t1608003 } from '../../shared/detections/definitions/t1608-003.js';
import type { Finding, Row } from '../../shared/model.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { exportForm } from '../../shared/siem/splunk-search.js';
import { captureIo } from '../helpers/cli-io.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { type QradarStandIn, startQradarStandIn, withoutWindow } from '../helpers/qradar-stand-in.js';
import { type SplunkStandIn, startSplunkStandIn } from '../helpers/splunk-stand-in.js';
import { T1608_003_SCENARIOS } from '../shared/detections/definitions/t1608-003.scenarios.js';

/**
 * `certsoar hunt --source splunk|qradar` through the CLI's entry point against loopback stand-ins
 * of Splunk's export endpoint and QRadar's Ariel API. There is no SPL or AQL engine here: each
 * stand-in answers only the exact text certsoar exports for T1608.003 (window aside) with the
 * scenario rows the detection's evaluator selects, so a query that drifts from the export fails.
 * What is proven is the plumbing (window, paging, fault handling) and that the rows map back onto
 * the evaluator, so scoring is the one every SIEM gets.
 */

type HuntLine = Finding & { detectionId: string };
const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as HuntLine);

const NOW = '2026-11-20T12:00:00Z';
const params = t1608003.paramsSchema.parse({});
/** Scenario rows that are T1608.003 hits and carry no SAN list (QRadar's export has no SAN property). */
const hits = T1608_003_SCENARIOS.filter((s) => t1608003.evaluate(s.row, params) && !/san=/i.test(String(s.row.AdditionalExtensions ?? ''))).map((s, i) => ({
  ...s.row,
  TimeGenerated: new Date(Date.parse(NOW) - (i + 10) * 60_000).toISOString(),
}));

let splunk: SplunkStandIn;
let qradar: QradarStandIn;
let crtsh: CrtshStandIn;
beforeAll(async () => {
  [splunk, qradar, crtsh] = await Promise.all([startSplunkStandIn(), startQradarStandIn(), startCrtshStandIn()]);
  qradar.pollsToComplete = 2;
});
afterAll(async () => Promise.all([splunk.close(), qradar.close(), crtsh.stop()]));

const common = () => ({ CRTSH_BASE_URL: crtsh.url, TLS_PROBE_ENABLED: 'false', HUNTS_ENABLED: 'T1608.003' });

describe('certsoar hunt --source splunk', () => {
  it('runs the exported SPL of the detection over the window and scores the rows with the same evaluator', async () => {
    expect(hits.length).toBeGreaterThan(2);
    splunk.searches.clear();
    for (const s of splSearches(DEFAULT_TUNING, [t1608003])) {
      const sent = exportForm({ search: s.search, window: { start: new Date(0), end: new Date(1) }, lookbackMs: 0, deadlineMs: 0, maxRows: 0 }).get('search') as string;
      // Only the first source's search holds the events; the others answer empty.
      splunk.searches.set(sent, splunk.searches.size === 0 ? hits.map((row) => ({ result: row, eventAt: new Date(String(row.TimeGenerated)), indexedAt: new Date(Date.parse(String(row.TimeGenerated)) + 60_000) })) : []);
    }
    const io = captureIo({ ...common(), SPLUNK_URL: splunk.baseUrl, SPLUNK_TOKEN: splunk.token });
    const code = await main(['hunt', '--source', 'splunk', '--json', '--since', '2h', '--now', NOW], io);
    expect(io.err()).not.toMatch(/unexpected error|rejected/);
    expect(code).toBe(0);
    const findings = lines(io.out());
    expect(findings.map((f) => f.hit.key).sort()).toEqual(hits.map((r) => t1608003.evaluate(r, params)?.key).sort());
    expect(splunk.exports.every((e) => e.status === 200)).toBe(true);
    expect(io.err()).not.toContain(splunk.token);
  });

  it('says which settings Splunk needs, by name', async () => {
    const io = captureIo({ ...common() });
    const code = await main(['hunt', '--source', 'splunk', '--json', '--since', '2h', '--now', NOW], io);
    expect(code).not.toBe(0);
    expect(io.err()).toMatch(/SPLUNK_URL/);
    expect(io.err()).toMatch(/SPLUNK_TOKEN/);
  });
});

describe('certsoar hunt --source qradar', () => {
  /** The QRadar event the exported AQL returns for a CommonSecurityLog row: its own fields and the documented custom properties. */
  const qradarEvent = (row: Row) => {
    const e = t1608003.evaluate(row, params);
    const t = String(row.TimeGenerated);
    return {
      event: {
        EventTime: t.slice(0, 19).replace('T', ' '),
        sourceip: row.SourceIP,
        destinationip: row.DestinationIP,
        destinationport: row.DestinationPort,
        'TLS Subject': e?.indicators.TLSSubject,
        'TLS Issuer': e?.indicators.TLSIssuer,
        'TLS Subject CN': e?.indicators.SubjectCN,
        'TLS SNI': e?.indicators.DestinationHost,
        'TLS Verdict': e?.indicators.DeviceVerdict ?? undefined,
      },
      receivedAt: new Date(Date.parse(t) + 60_000),
    };
  };

  it('runs the exported AQL over the slice, pages the results and scores them with the same evaluator', async () => {
    qradar.searches.clear();
    qradar.searches.set(withoutWindow(aqlQuery(t1608003, DEFAULT_TUNING, { start: new Date(0), end: new Date(60_000) }).query), hits.map(qradarEvent));
    const io = captureIo({ ...common(), QRADAR_URL: qradar.baseUrl, QRADAR_TOKEN: qradar.token });
    const code = await main(['hunt', '--source', 'qradar', '--json', '--since', '2h', '--now', NOW], io);
    expect(io.err()).not.toMatch(/unexpected error|rejected/);
    expect(code).toBe(0);
    const findings = lines(io.out());
    expect(qradar.created.map((c) => c.status)).toEqual([201]);
    expect(findings).toHaveLength(hits.length);
    // The same signals the evaluator gives the original rows (no SANs in these rows, so nothing QRadar lacks matters).
    const expected = hits.map((r) => t1608003.evaluate(r, params)?.signals.map((s) => s.id).sort().join(',')).sort();
    expect(findings.map((f) => f.hit.signals.map((s) => s.id).sort().join(',')).sort()).toEqual(expected);
    expect(io.err()).not.toContain(qradar.token);
  });

  it('reports a query QRadar rejects (422) as an unhealthy detection, not as no findings', async () => {
    qradar.searches.clear();
    const io = captureIo({ ...common(), QRADAR_URL: qradar.baseUrl, QRADAR_TOKEN: qradar.token });
    const code = await main(['hunt', '--source', 'qradar', '--json', '--since', '2h', '--now', NOW], io);
    expect(code).not.toBe(0);
    expect(io.err()).toMatch(/unhealthy.*422/);
  });
});
