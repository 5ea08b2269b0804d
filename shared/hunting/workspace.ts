import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ValidationError } from '../errors.js';
import type { Row } from '../model.js';

/**
 * A local workspace: a directory of tables exported from Log Analytics, one file per table,
 * the table named by the file name up to its first dot (CommonSecurityLog.ndjson and
 * CommonSecurityLog.akamai.csv both feed CommonSecurityLog). Formats:
 * - .ndjson / .jsonl: one JSON object per line;
 * - .csv: the Log Analytics portal export (header row, RFC 4180 quoting with embedded
 *   newlines and doubled quotes, datetime columns named "Col [UTC]" with values like
 *   "11/13/2020, 4:27:16.933 PM");
 * - .json: the array `az monitor log-analytics query` prints, or the Log Analytics REST
 *   answer `{tables: [{columns, rows}]}`.
 * Empty cells are dropped (a CSV cannot tell empty from null) and CSV values stay text, as
 * the portal wrote them, except datetimes, which become ISO-8601 UTC.
 */

export interface WorkspaceTable {
  name: string;
  rows: Row[];
  files: string[];
}

export type Workspace = Map<string, WorkspaceTable>;

const READERS: Record<string, (text: string, file: string) => Row[]> = {
  '.ndjson': rowsFromNdjson,
  '.jsonl': rowsFromNdjson,
  '.csv': rowsFromCsv,
  '.json': rowsFromJson,
};

/** Reads every table file in dir (not recursive); other files are ignored. */
export async function loadWorkspace(dir: string): Promise<Workspace> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    throw new ValidationError('cannot read workspace', [{ path: dir, message: (err as NodeJS.ErrnoException).code ?? String(err) }]);
  }
  const workspace: Workspace = new Map();
  for (const name of entries.sort()) {
    const read = READERS[extname(name).toLowerCase()];
    if (!read) continue;
    const file = join(dir, name);
    const rows = read(await readFile(file, 'utf8'), name);
    const table = tableNameFromFile(name);
    const existing = workspace.get(table);
    if (existing) {
      existing.rows.push(...rows);
      existing.files.push(name);
    } else {
      workspace.set(table, { name: table, rows, files: [name] });
    }
  }
  return workspace;
}

export function tableNameFromFile(file: string): string {
  return basename(file).split('.')[0] ?? '';
}

export function rowsFromNdjson(text: string, file: string): Row[] {
  const rows: Row[] = [];
  stripBom(text)
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      rows.push(asRow(parseJson(line, `${file}:${index + 1}`), `${file}:${index + 1}`));
    });
  return rows;
}

export function rowsFromJson(text: string, file: string): Row[] {
  const doc = parseJson(stripBom(text), file);
  if (Array.isArray(doc)) return doc.map((item, i) => withoutAzCliTableName(asRow(item, `${file}[${i}]`)));
  if (isObject(doc) && Array.isArray(doc.tables)) return rowsFromQueryAnswer(doc.tables, file);
  throw new ValidationError('unreadable table file', [{ path: file, message: 'expected a JSON array of rows or a Log Analytics answer {tables: [...]}' }]);
}

export function rowsFromCsv(text: string, file: string): Row[] {
  const records = parseCsv(stripBom(text), file);
  const header = records.shift();
  if (!header) return [];
  const columns = header.map(csvColumn);
  return records
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((record, i) => {
      if (record.length !== columns.length) {
        throw new ValidationError('unreadable table file', [
          { path: `${file}:row ${i + 1}`, message: `${record.length} fields where the header has ${columns.length}` },
        ]);
      }
      const row: Row = {};
      record.forEach((value, c) => {
        const column = columns[c]!;
        if (value === '') return;
        row[column.name] = column.utc ? (portalDateToIso(value) ?? value) : value;
      });
      return row;
    });
}

/** RFC 4180: fields separated by commas, quoted fields may hold commas, newlines and "" for a quote. */
export function parseCsv(text: string, file = 'csv'): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
    } else {
      field += ch;
    }
    i += 1;
  }
  if (quoted) throw new ValidationError('unreadable table file', [{ path: file, message: 'a quoted field is not closed' }]);
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** "11/13/2020, 4:27:16.933 PM" (the portal's UTC export) → "2020-11-13T16:27:16.933Z". */
export function portalDateToIso(value: string): string | undefined {
  const iso = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(iso)) return new Date(iso).toISOString();
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\s*(AM|PM)?$/i.exec(value.trim());
  if (!m) return undefined;
  const [, month, day, year, h, min, sec, frac = '0', ampm] = m;
  let hour = Number(h);
  if (ampm) {
    if (hour === 12) hour = 0;
    if (ampm.toUpperCase() === 'PM') hour += 12;
  }
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), hour, Number(min), Number(sec), ms)).toISOString();
}

function csvColumn(raw: string): { name: string; utc: boolean } {
  const m = /^(.*?)\s*\[(UTC|Local Time)\]$/i.exec(raw.trim());
  if (!m) return { name: raw.trim(), utc: false };
  return { name: m[1]!, utc: m[2]!.toUpperCase() === 'UTC' };
}

function rowsFromQueryAnswer(tables: unknown[], file: string): Row[] {
  const rows: Row[] = [];
  tables.forEach((t, ti) => {
    if (!isObject(t) || !Array.isArray(t.columns) || !Array.isArray(t.rows)) {
      throw new ValidationError('unreadable table file', [{ path: `${file}.tables[${ti}]`, message: 'expected {columns, rows}' }]);
    }
    const names = t.columns.map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : ''));
    for (const values of t.rows) {
      if (!Array.isArray(values)) continue;
      const row: Row = {};
      values.forEach((v, c) => {
        if (v !== null && v !== '' && names[c]) row[names[c]] = v;
      });
      rows.push(row);
    }
  });
  return rows;
}

/** az adds a "TableName": "PrimaryResult" column naming the result set, not the source table. */
function withoutAzCliTableName(row: Row): Row {
  if (row.TableName !== 'PrimaryResult') return row;
  const { TableName: _dropped, ...rest } = row;
  return rest;
}

function asRow(value: unknown, where: string): Row {
  if (!isObject(value)) throw new ValidationError('unreadable table file', [{ path: where, message: 'expected a JSON object per row' }]);
  return value;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError('unreadable table file', [{ path: where, message: `not JSON: ${(err as Error).message}` }]);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The event time of a row: TimeGenerated (Log Analytics) or Timestamp (Defender tables). */
export function rowTime(row: Row): number | undefined {
  for (const key of ['TimeGenerated', 'Timestamp']) {
    const v = row[key];
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  return undefined;
}
