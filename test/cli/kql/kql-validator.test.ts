import { describe, expect, it } from 'vitest';
import { DETECTIONS } from '../../../shared/detections/index.js';
import { analyseKql, kqlErrors, loadSchemas } from '../../../cli/kql/kql-validator.js';
import { datasetUrl } from '../../shared/detections/fixtures/datasets.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WINDOW = { start: new Date('2026-11-20T10:00:00Z'), end: new Date('2026-11-20T10:15:00Z') };

describe('schemas', () => {
  it('are the real table schemas from test/datasets, unchanged', () => {
    for (const table of ['CommonSecurityLog', 'DeviceProcessEvents', 'DeviceFileEvents', 'DeviceRegistryEvents']) {
      const ours = readFileSync(fileURLToPath(new URL(`../../../shared/detections/schemas/${table}.json`, import.meta.url)));
      expect(ours.equals(readFileSync(datasetUrl(`schemas/${table}.json`))), table).toBe(true);
    }
    const byName = new Map(loadSchemas().map((t) => [t.name, t]));
    expect(byName.get('CommonSecurityLog')?.columns).toHaveLength(164);
    expect(byName.get('CommonSecurityLog')?.columns.find((c) => c.name === 'DestinationPort')?.type).toBe('int');
    expect(byName.get('DeviceRegistryEvents')?.columns).toHaveLength(49);
  });
});

describe('the validator', () => {
  it('accepts a correct query', () => {
    expect(analyseKql('CommonSecurityLog | where DestinationPort == 443 | project TimeGenerated, SourceIP')).toEqual([]);
  });

  it('reports an unknown column', () => {
    const errors = kqlErrors('CommonSecurityLog | where DestinationPortt == 443');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'KS142', line: 1, column: 27 });
    expect(errors[0]?.message).toContain('DestinationPortt');
  });

  it('reports an unknown function', () => {
    const errors = kqlErrors('DeviceProcessEvents\n| extend x = not_a_function(FileName)');
    expect(errors.map((e) => e.code)).toContain('KS211');
    expect(errors[0]).toMatchObject({ line: 2 });
  });

  it('reports a type error', () => {
    const errors = kqlErrors('DeviceRegistryEvents | extend n = strlen(Timestamp)');
    expect(errors.map((e) => e.code)).toEqual(['KS141']);
  });

  it('reports an unknown table and a syntax error', () => {
    expect(kqlErrors('NoSuchTable | take 1').length).toBeGreaterThan(0);
    expect(kqlErrors('CommonSecurityLog | where (').length).toBeGreaterThan(0);
  });
});

describe('every detection query', () => {
  for (const detection of DETECTIONS) {
    const params = detection.paramsSchema.parse({});
    it(`${detection.meta.id}: no errors, with and without a window`, () => {
      expect(kqlErrors(detection.buildQuery(params))).toEqual([]);
      expect(kqlErrors(detection.buildQuery(params, WINDOW))).toEqual([]);
    });

    it(`${detection.meta.id}: filters by ingestion time with a window and by lookback without`, () => {
      const windowed = detection.buildQuery(params, WINDOW);
      expect(windowed).toContain('ingestion_time() >= datetime(2026-11-20T10:00:00.000Z) and ingestion_time() < datetime(2026-11-20T10:15:00.000Z)');
      expect(windowed).toContain('TimeGenerated >= datetime(2026-11-19T10:00:00.000Z)');
      expect(windowed).not.toContain('ago(');
      const rule = detection.buildQuery(params);
      expect(rule).toContain('TimeGenerated > ago(1d)');
    });

    it(`${detection.meta.id}: projects every raw column the twin reads, plus TimeGenerated`, () => {
      const query = detection.buildQuery(params);
      const projected = query.slice(query.lastIndexOf('| project '));
      for (const column of [...detection.projectedColumns, 'TimeGenerated']) expect(projected).toMatch(new RegExp(`\\b${column}\\b`));
      const tables = new Map(loadSchemas().map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
      for (const column of detection.projectedColumns) {
        expect(detection.meta.tables.some((t) => tables.get(t)?.has(column)), column).toBe(true);
      }
    });

    it(`${detection.meta.id}: stays valid with hostile strings in every list parameter`, () => {
      const hostile = ["O'Brien", 'say "hi"', 'C:\\Temp\\', 'a|b(c)[d]*e+f?', 'x\ny'];
      const overrides: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
        if (Array.isArray(value) && value.every((v) => typeof v === 'string') && !['stores', 'allowedThumbprints'].includes(name)) overrides[name] = hostile;
      }
      expect(Object.keys(overrides).length).toBeGreaterThan(2);
      const tuned = detection.paramsSchema.parse(overrides);
      expect(kqlErrors(detection.buildQuery(tuned))).toEqual([]);
      expect(kqlErrors(detection.buildQuery(tuned, WINDOW))).toEqual([]);
    });
  }
});
