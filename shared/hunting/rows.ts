import type { LogsColumn, LogsTable } from '@azure/monitor-query-logs';
import { z } from 'zod';
import type { Detection } from '../detections/types.js';
import { ValidationError, problemsFromZod } from '../errors.js';
import type { Row } from '../model.js';

/**
 * Log Analytics answers → rows the detection's twin reads. A row is an object keyed by the
 * answer's column names, each cell checked by zod against the column's declared type. Cells are
 * plain JSON data so a Hit can travel on a queue: datetime cells (which the SDK turns into Date)
 * go back to ISO-8601 text; dynamic cells stay as the SDK parsed them.
 */

const nullableText = z.string().nullable();
const nullableNumber = z.number().nullable();
// real and decimal: JSON numbers, but NaN/Infinity (and decimals beyond double) arrive as text.
const nullableNumeric = z.union([z.number(), z.string()]).nullable();
const CELL_BY_TYPE: Record<string, z.ZodType> = {
  string: nullableText,
  guid: nullableText,
  timespan: nullableText,
  datetime: nullableText,
  int: nullableNumber,
  long: nullableNumber,
  real: nullableNumeric,
  decimal: nullableNumeric,
  bool: z.boolean().nullable(),
  boolean: z.boolean().nullable(),
  dynamic: z.unknown(),
};

const schemas = new Map<string, z.ZodType<Row>>();

/** The zod schema of a row of an answer with these columns (cached by the column list). */
export function rowSchema(columns: readonly LogsColumn[]): z.ZodType<Row> {
  const signature = columns.map((c) => `${c.name}:${c.type}`).join(',');
  let schema = schemas.get(signature);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const c of columns) shape[c.name as string] = CELL_BY_TYPE[String(c.type).toLowerCase()] ?? z.unknown();
    schema = z.object(shape) as unknown as z.ZodType<Row>;
    if (schemas.size > 100) schemas.clear();
    schemas.set(signature, schema);
  }
  return schema;
}

/**
 * How a cell is checked. Each kind is a plain typeof test that accepts only values its zod cell
 * schema (CELL_BY_TYPE) accepts and returns unchanged, so a row whose cells all pass is exactly
 * what rowSchema would return; a row with any other cell goes through rowSchema itself, which
 * rejects it with the same field problems as ever (or accepts it, if the quick test was stricter).
 */
type CellKind = 'text' | 'number' | 'numeric' | 'bool' | 'any';

const KIND_BY_TYPE: Record<string, CellKind> = {
  string: 'text',
  guid: 'text',
  timespan: 'text',
  datetime: 'text',
  int: 'number',
  long: 'number',
  real: 'numeric',
  decimal: 'numeric',
  bool: 'bool',
  boolean: 'bool',
  dynamic: 'any',
};

function cellFits(kind: CellKind, v: unknown): boolean {
  switch (kind) {
    case 'text':
      return v === null || typeof v === 'string';
    case 'number':
      // z.number() rejects NaN and ±Infinity.
      return v === null || (typeof v === 'number' && Number.isFinite(v));
    case 'numeric':
      return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    case 'bool':
      return v === null || typeof v === 'boolean';
    default:
      return true;
  }
}

/**
 * The rows of the answer, one by one. The columns (names, types, the detection's projected
 * columns) are worked out once per table; each row is then built from that column map and its
 * cells checked against their column's type. Each of the SDK's row arrays is released once its
 * row is built, so a 500,000-row answer is not held twice. Fails naming the detection and the
 * columns or cells when the answer does not fit the query.
 */
export function* rowsOf(table: LogsTable, detection: Detection, options: { projectedOnly?: boolean } = {}): Generator<Row> {
  const all = table.columnDescriptors.map((c, i) => ({ name: c.name ?? `Column${i}`, type: c.type ?? 'dynamic', index: i }));
  const names = all.map((c) => c.name);
  const missing = detection.projectedColumns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(`${detection.meta.id}: the answer lacks projected columns`, missing.map((c) => ({ path: c, message: 'column missing from the answer' })));
  }
  // projectedOnly: a hit keeps the columns its detection projects, never extra ones of the answer.
  const projected = new Set(detection.projectedColumns);
  const columns = options.projectedOnly ? all.filter((c) => projected.has(c.name)) : all;
  const kinds = columns.map((c) => KIND_BY_TYPE[String(c.type).toLowerCase()] ?? 'any');
  const width = columns.length;
  let schema: z.ZodType<Row> | undefined; // only needed for a row with a cell that does not fit
  const rows = table.rows as Array<unknown[] | undefined>;
  for (let r = 0; r < rows.length; r++) {
    const cells = rows[r] as unknown[];
    rows[r] = undefined;
    const row: Row = {};
    let fits = true;
    for (let i = 0; i < width; i++) {
      const column = columns[i] as (typeof columns)[number];
      const v = cells[column.index];
      const cell = v instanceof Date ? (Number.isNaN(v.getTime()) ? null : v.toISOString()) : v === undefined ? null : v;
      row[column.name] = cell;
      if (fits && !cellFits(kinds[i] as CellKind, cell)) fits = false;
    }
    if (fits) {
      yield row;
      continue;
    }
    schema ??= rowSchema(columns);
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new ValidationError(`${detection.meta.id}: row ${r} of the answer`, problemsFromZod(parsed.error.issues, 'row'));
    yield parsed.data;
  }
}

/** All rows of the answer (see rowsOf). */
export function rowsFromTable(table: LogsTable, detection: Detection): Row[] {
  return [...rowsOf(table, detection)];
}
