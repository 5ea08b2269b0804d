import { executeKql } from '../../../devtools/kusto/execute.js';
import { KqlDateTime, type KqlValue } from '../../../devtools/kusto/values.js';
import type { Detection } from '../../../shared/detections/types.js';
import { loadSchemas } from '../../../shared/detections/kql-validator.js';
import type { Row } from './parity-corpus.js';

/**
 * Runs a detection's KQL (executed by devtools/kusto over the row as its table) and its in-process
 * evaluator over the same rows, and lists every row where they disagree: hit or not, and every
 * indicator the evaluator reports that the query also projects (the signal flags and the score).
 */

export interface Divergence {
  index: number;
  table: string;
  row: Row;
  what: string;
  kql?: unknown;
  evaluator?: unknown;
}

const schemas = loadSchemas();
const columnsOf = new Map(schemas.map((s) => [s.name, new Map(s.columns.map((c) => [c.name, c.type]))]));
const BASE = Date.parse('2026-11-20T00:00:00.000Z');

/** Which table a scenario row belongs to: MDE's DeviceFileEvents action types all start with "File". */
export function tableForRow(detection: Detection, row: Row): string {
  const tables = detection.meta.tables;
  if (tables.length === 1) return tables[0] as string;
  const action = typeof row.ActionType === 'string' ? row.ActionType : '';
  if (/^file/i.test(action) && tables.includes('DeviceFileEvents')) return 'DeviceFileEvents';
  return tables.find((t) => t !== 'DeviceFileEvents') as string;
}

/**
 * The row as the table would store it: only its columns, numbers in string columns as text (the
 * vendors' sample files hold a few), and a unique TimeGenerated so result rows map back to inputs.
 */
function prepare(table: string, row: Row, index: number): Row {
  const columns = columnsOf.get(table);
  if (!columns) throw new Error(`no schema for ${table}`);
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    const type = columns.get(k);
    if (type === undefined || type === 'datetime') continue;
    out[k] = type === 'string' && (typeof v === 'number' || typeof v === 'boolean') ? String(v) : v;
  }
  out.TimeGenerated = new Date(BASE + index * 1000).toISOString();
  return out;
}

/** Empty string, null and empty list are one value; lists compare as comma-joined text. */
function normalise(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return null;
  if (Array.isArray(v)) return v.length ? v.join(',') : null;
  if (v instanceof KqlDateTime) return v.toISOString();
  return v;
}

export function checkParity(detection: Detection, items: ReadonlyArray<{ table: string; row: Row }>): Divergence[] {
  const params = detection.paramsSchema.parse({});
  const window = { start: new Date(BASE - 3_600_000), end: new Date(BASE + items.length * 1000 + 3_600_000) };
  const query = detection.buildQuery(params, window);
  const divergences: Divergence[] = [];
  items.forEach(({ table, row }, index) => {
    const prepared = prepare(table, row, index);
    const found: Divergence = { index, table, row, what: '' };
    let kqlRows: Array<Record<string, KqlValue>>;
    try {
      const tables: Record<string, Row[]> = Object.fromEntries(detection.meta.tables.map((t) => [t, []]));
      tables[table] = [prepared];
      kqlRows = executeKql(query, { tables, now: window.end }).rows;
    } catch (err) {
      divergences.push({ ...found, what: `the KQL cannot be evaluated: ${(err as Error).message}` });
      return;
    }
    const evaluation = detection.evaluate(prepared, params);
    if (kqlRows.length > 1) divergences.push({ ...found, what: `the KQL returns ${kqlRows.length} rows for one event` });
    const kql = kqlRows[0];
    if (!kql !== !evaluation) {
      divergences.push({ ...found, what: kql ? 'hit in the KQL only' : 'hit in the evaluator only', kql, evaluator: evaluation?.indicators });
      return;
    }
    if (!kql || !evaluation) return;
    for (const [name, value] of Object.entries(evaluation.indicators)) {
      if (!(name in kql)) continue;
      const a = normalise(kql[name]);
      const b = normalise(value);
      if (a !== b) divergences.push({ ...found, what: `${name} differs`, kql: a, evaluator: b });
    }
    const points = evaluation.signals.reduce((s, x) => s + x.points, 0);
    if (typeof evaluation.indicators.CertRiskScore === 'number' && points !== evaluation.indicators.CertRiskScore) {
      divergences.push({ ...found, what: 'the evaluator score is not the sum of its signals', evaluator: points });
    }
  });
  return divergences;
}

/** One line per divergence kind, with a count and the first example, for a readable failure. */
export function summarise(divergences: Divergence[]): string[] {
  const byKind = new Map<string, Divergence[]>();
  for (const d of divergences) {
    const k = d.what.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N');
    byKind.set(k, [...(byKind.get(k) ?? []), d]);
  }
  return [...byKind.entries()].map(([k, ds]) => {
    const first = ds[0] as Divergence;
    return `${ds.length} × ${k}; e.g. ${first.table} ${JSON.stringify(first.row)} kql=${JSON.stringify(first.kql)} evaluator=${JSON.stringify(first.evaluator)}`;
  });
}
