import { describe, expect, it } from 'vitest';
import { executeKql } from '../../../devtools/kusto/execute.js';
import { FINDINGS_COLUMNS, FINDINGS_TABLE, findingRow } from '../../../shared/delivery/logs-ingestion-row.js';
import { DETECTIONS, detectionParams } from '../../../shared/detections/index.js';
import { loadSchemas, type TableSchema } from '../../../cli/kql/kql-validator.js';
import { detectionRule, findingsRule } from '../../../shared/detections/sentinel-rule.js';
import { parseDuration } from '../../../shared/duration.js';
import type { Row } from '../../../shared/model.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { oversizedFinding, sampleFinding, seaTurtleFinding } from '../delivery/fixtures.js';
import { T1588_004_SCENARIOS } from './definitions/t1588-004.scenarios.js';
import { T1608_003_SCENARIOS } from './definitions/t1608-003.scenarios.js';

/**
 * The analytics rules' KQL executed by the KQL evaluator (devtools/kusto, Microsoft's parser),
 * over rows as the tables hold them: the findings rule over rows the code sends, and the rules-mode
 * detection rules over consecutive runs, so a row is alerted on by exactly one run.
 */
const FINDINGS_SCHEMA: TableSchema = {
  name: FINDINGS_TABLE,
  columns: FINDINGS_COLUMNS.map((c) => ({ name: c.name, type: c.type === 'dateTime' ? 'datetime' : c.type === 'boolean' ? 'bool' : c.type })),
};

describe('the findings rule, executed', () => {
  it('returns each row the code sends with every column the rule maps, details and groups by', () => {
    const rule = findingsRule(DETECTIONS);
    const rows = [sampleFinding(), seaTurtleFinding(), oversizedFinding()].map((f) => findingRow(f));
    const result = executeKql(rule.query, { tables: { [FINDINGS_TABLE]: rows }, schemas: [FINDINGS_SCHEMA] });
    expect(result.rows).toHaveLength(rows.length);
    const used = [...rule.entityMappings.flatMap((m) => m.fieldMappings.map((f) => f.columnName)), ...Object.values(rule.customDetails), 'Title', 'Severity', 'Tactics'];
    for (const [i, out] of result.rows.entries()) {
      for (const c of used) {
        const sent = rows[i]![c];
        const got = out[c];
        if (sent === null || sent === undefined) continue;
        const asText = got instanceof Object && 'toISOString' in (got as object) ? (got as unknown as { toISOString(): string }).toISOString() : got;
        expect(String(asText), c).toBe(typeof sent === 'object' ? String(asText) : String(sent));
      }
    }
  });
});

/** A row of a table, ingested at `ingestedAt`. */
function ingested(row: Row, ingestedAt: Date): Row {
  return { ...row, _IngestionTime: ingestedAt.toISOString() };
}

/** A column each table has that can tell the rows apart. */
const ID_COLUMN: Record<string, string> = { 'T1608.003': 'SourcePort', 'T1588.004': 'ReportId' };

const SCENARIOS: Record<string, Row[]> = {
  'T1608.003': T1608_003_SCENARIOS.filter((s) => s.expect).map((s) => s.row),
  'T1588.004': T1588_004_SCENARIOS.filter((s) => s.expect).map((s) => s.row),
};

describe('rules-mode detection rules, executed run after run', () => {
  const schemas = loadSchemas();
  for (const detection of DETECTIONS.filter((d) => SCENARIOS[d.meta.id])) {
    it(`${detection.meta.id}: each hit row raises an alert in exactly one run, however late it was ingested within the margin`, () => {
      const rule = detectionRule(detection, detectionParams(detection, DEFAULT_TUNING));
      const table = detection.meta.tables[0]!;
      const idColumn = ID_COLUMN[detection.meta.id]!;
      const frequency = parseDuration(detection.meta.queryFrequency)!;
      const start = Date.parse('2026-11-20T12:00:00Z');
      // Rows whose TimeGenerated is the event time, ingested 0 s .. 50 min later, spread over six runs.
      const base = SCENARIOS[detection.meta.id]!;
      const rows: Row[] = [];
      for (let i = 0; i < 24; i++) {
        const source = base[i % base.length]!;
        const eventTime = new Date(start + (i * frequency) / 4);
        const delayMs = (i % 6) * 10 * 60_000;
        rows.push(ingested({ ...source, TimeGenerated: eventTime.toISOString(), [idColumn]: 40_000 + i }, new Date(eventTime.getTime() + delayMs)));
      }
      const seen = new Map<number, number>();
      // Runs every `frequency` from the first event until every row has been ingested.
      for (let run = start; run <= start + 10 * frequency + 60 * 60_000; run += frequency) {
        const visible = rows.filter((r) => Date.parse(String(r['_IngestionTime'])) <= run);
        const result = executeKql(rule.query, { tables: { [table]: visible }, schemas, now: new Date(run) });
        for (const out of result.rows) {
          const id = Number(out[idColumn]);
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
      }
      const hits = rows.filter((r) => detection.evaluate(r, detectionParams(detection, DEFAULT_TUNING)) !== null);
      expect(hits.length).toBeGreaterThan(0);
      for (const r of hits) expect(seen.get(Number(r[idColumn])), `row ${String(r[idColumn])}`).toBe(1);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    });
  }

  it('a row ingested later than frequency + margin after its TimeGenerated is never alerted on (the documented limit)', () => {
    const detection = DETECTIONS.find((d) => d.meta.id === 'T1608.003')!;
    const rule = detectionRule(detection, detectionParams(detection, DEFAULT_TUNING));
    const frequency = parseDuration(detection.meta.queryFrequency)!;
    const eventTime = Date.parse('2026-11-20T12:00:00Z');
    const late = ingested({ ...SCENARIOS['T1608.003']![0]!, TimeGenerated: new Date(eventTime).toISOString() }, new Date(eventTime + frequency + 61 * 60_000));
    let alerts = 0;
    for (let run = eventTime; run <= eventTime + 4 * 60 * 60_000; run += frequency) {
      const visible = Date.parse(String(late['_IngestionTime'])) <= run ? [late] : [];
      alerts += executeKql(rule.query, { tables: { CommonSecurityLog: visible }, schemas: loadSchemas(), now: new Date(run) }).rows.length;
    }
    expect(alerts).toBe(0);
  });

  it('the alert title names the threat, HTML-escaped and at most 256 characters, and the CEF account is split', () => {
    const detection = DETECTIONS.find((d) => d.meta.id === 'T1608.003')!;
    const rule = detectionRule(detection, detectionParams(detection, DEFAULT_TUNING));
    const cn = `<img src=x onerror=alert(1)>${'a'.repeat(400)}`;
    const row = {
      ...SCENARIOS['T1608.003']![0]!,
      AdditionalExtensions: `PanOSCommonName=${cn};PanOSIssuerCommonName=${cn};PanOSServerNameIndication=update-cdn-service.net`,
      _IngestionTime: '2026-11-20T12:00:00.000Z',
      TimeGenerated: '2026-11-20T11:59:00.000Z',
    };
    const [out] = executeKql(rule.query, { tables: { CommonSecurityLog: [row] }, schemas: loadSchemas(), now: new Date('2026-11-20T12:05:00Z') }).rows;
    const title = String(out?.['CertsoarAlertTitle']);
    expect(title.startsWith('certsoar T1608.003 203.0.113.50 443 update-cdn-service.net &lt;img src=x onerror=alert(1)&gt;')).toBe(true);
    expect(title).not.toContain('<');
    expect(title.length).toBeLessThanOrEqual(256);
    expect([out?.['CertsoarAccountName'], out?.['CertsoarAccountDomain']]).toEqual(['alice', 'CONTOSO']);
  });
});
