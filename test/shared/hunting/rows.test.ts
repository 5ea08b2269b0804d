import type { LogsTable } from '@azure/monitor-query-logs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { rowSchema, rowsFromTable } from '../../../shared/hunting/rows.js';
import type { Detection } from '../../../shared/detections/types.js';
import { testDetection } from './test-detection.js';

/** A detection projecting every column of the typed table below. */
const typed: Detection = { ...(testDetection as unknown as Detection), projectedColumns: [] };

const COLUMNS = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Name', type: 'string' },
  { name: 'Port', type: 'int' },
  { name: 'Bytes', type: 'long' },
  { name: 'Ratio', type: 'real' },
  { name: 'Flag', type: 'bool' },
  { name: 'Extra', type: 'dynamic' },
] as const;

const CANDIDATES: Record<string, unknown[]> = {
  TimeGenerated: [new Date('2026-01-01T00:00:00Z'), new Date(Number.NaN), '2026-01-01T00:00:00Z', null, undefined, 5, true],
  Name: ['a', '', null, undefined, 7, false, { x: 1 }],
  Port: [443, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, null, '443', true],
  Bytes: [2 ** 40, null, 'NaN', Number.NaN],
  Ratio: [0.5, 'NaN', 'Infinity', Number.NaN, null, true],
  Flag: [true, false, null, 'true', 1],
  Extra: [{ a: 1 }, [1, 2], 'text', null, 3],
};

function table(rows: unknown[][]): LogsTable {
  return { name: 'PrimaryResult', columnDescriptors: COLUMNS.map((c) => ({ ...c })), rows } as unknown as LogsTable;
}

/** The reference: the cell as the SDK hands it over, normalised, then checked by zod alone. */
function zodOnly(cells: unknown[]): { ok: true; row: unknown } | { ok: false } {
  const row: Record<string, unknown> = {};
  COLUMNS.forEach((c, i) => {
    const v = cells[i];
    row[c.name] = v instanceof Date ? (Number.isNaN(v.getTime()) ? null : v.toISOString()) : v === undefined ? null : v;
  });
  const parsed = rowSchema(COLUMNS.map((c) => ({ ...c })) as never).safeParse(row);
  return parsed.success ? { ok: true, row: parsed.data } : { ok: false };
}

describe('rows from a Log Analytics answer', () => {
  it('the per-column fast path accepts and rejects exactly what zod alone does, cell type by cell type', () => {
    const base = COLUMNS.map((c) => CANDIDATES[c.name]![0]);
    let compared = 0;
    COLUMNS.forEach((c, i) => {
      for (const value of CANDIDATES[c.name]!) {
        const cells = [...base];
        cells[i] = value;
        const expected = zodOnly(cells);
        let actual: { ok: true; row: unknown } | { ok: false };
        try {
          actual = { ok: true, row: rowsFromTable(table([[...cells]]), typed)[0] };
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).problems[0]!.path).toBe(`row.${c.name}`);
          actual = { ok: false };
        }
        expect({ column: c.name, value: String(value), ...actual }).toEqual({ column: c.name, value: String(value), ...expected });
        compared += 1;
      }
    });
    expect(compared).toBe(Object.values(CANDIDATES).flat().length);
  });

  it('names the projected columns an answer lacks', () => {
    const needsMore: Detection = { ...typed, projectedColumns: ['TimeGenerated', 'DestinationHostName'] };
    expect(() => rowsFromTable(table([]), needsMore)).toThrow(/DestinationHostName: column missing from the answer/);
  });
});
