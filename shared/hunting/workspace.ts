import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsvRecords } from 'csv-parse/sync';
import { ValidationError, type FieldProblem } from '../errors.js';
import type { Row } from '../model.js';
import { closestName } from '../scoring/closest-name.js';

/**
 * A local workspace: a directory of tables exported from Log Analytics, one file per table,
 * the table named by the file name up to its first dot (CommonSecurityLog.ndjson and
 * CommonSecurityLog.akamai.csv both feed CommonSecurityLog; the name is matched
 * case-insensitively). Formats, optionally gzip-compressed (.gz):
 * - .ndjson / .jsonl: one JSON object per line;
 * - .csv / .tsv: the Log Analytics portal export (header row, RFC 4180 quoting with embedded
 *   newlines and doubled quotes, datetime columns named "Col [UTC]" with values like
 *   "11/13/2020, 4:27:16.933 PM"); the separator (comma, semicolon or tab) is detected;
 * - .json: the array `az monitor log-analytics query` prints, or the Log Analytics REST
 *   answer `{tables: [{columns, rows}]}`.
 * Text may be UTF-8 (with or without BOM) or UTF-16 LE/BE (what `az … > file.json` writes in
 * Windows PowerShell 5.1). Empty cells are dropped (a CSV cannot tell empty from null) and CSV
 * values stay text, as the portal wrote them, except datetimes, which become ISO-8601 UTC.
 * When the expected table names are given, every other file is an error that names them.
 */

export interface WorkspaceTable {
  name: string;
  rows: Row[];
  files: string[];
  /** Rows read from each file, in file order. */
  rowsPerFile: number[];
}

export type Workspace = Map<string, WorkspaceTable>;

export interface WorkspaceOptions {
  /** The tables the detections read; any other file is an error naming them. */
  tables?: readonly string[];
}

const READERS: Record<string, (text: string, file: string) => Row[]> = {
  ndjson: rowsFromNdjson,
  jsonl: rowsFromNdjson,
  csv: rowsFromCsv,
  tsv: (text, file) => rowsFromCsv(text, file, '\t'),
  json: rowsFromJson,
};
export const TABLE_FILE_FORMATS = Object.keys(READERS);

/** Reads every table file in dir (not recursive); hidden files are ignored, anything else fails. */
export async function loadWorkspace(dir: string, options: WorkspaceOptions = {}): Promise<Workspace> {
  const entries = await listDirectory(dir);
  const files = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const expected = options.tables ?? [];
  const problems: FieldProblem[] = [];
  const planned: Array<{ name: string; table: string; format: string; gzip: boolean }> = [];
  for (const name of files) {
    const plan = planFile(name, expected);
    if ('problem' in plan) problems.push({ path: join(dir, name), message: plan.problem });
    else planned.push({ name, ...plan });
  }
  if (files.length === 0) {
    const folders = entries.filter((e) => e.isDirectory()).length;
    problems.push({ path: dir, message: `no table files${folders ? ` (${folders} sub-folder(s) are not read)` : ''}; expected files named after tables${expectedList(expected)}, as .ndjson, .jsonl, .json, .csv or .tsv` });
  }
  if (problems.length > 0) throw new ValidationError('cannot use workspace', problems);

  const workspace: Workspace = new Map();
  for (const { name, table, format, gzip } of planned) {
    const text = await readTableText(join(dir, name), gzip);
    if (/^#separator /.test(text)) throw new ValidationError('cannot use workspace', [{ path: join(dir, name), message: zeekMessage(expected) }]);
    const rows = READERS[format]!(text, name);
    const existing = workspace.get(table);
    if (existing) {
      existing.rows.push(...rows);
      existing.files.push(name);
      existing.rowsPerFile.push(rows.length);
    } else {
      workspace.set(table, { name: table, rows, files: [name], rowsPerFile: [rows.length] });
    }
  }
  return workspace;
}

async function listDirectory(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError('cannot read workspace', [{ path: dir, message: code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (code ?? String(err)) }]);
  }
}

/** What a file name says: its table and format, or why it cannot be a table file. */
function planFile(name: string, expected: readonly string[]): { table: string; format: string; gzip: boolean } | { problem: string } {
  const parts = name.split('.');
  const gzip = parts.length > 2 && parts[parts.length - 1]!.toLowerCase() === 'gz';
  const format = (gzip ? parts[parts.length - 2] : parts[parts.length - 1])?.toLowerCase() ?? '';
  const stem = parts[0] ?? '';
  if (parts.length < 2 || !READERS[format]) {
    if (/^(ssl|x509|conn|dns|http|files)(\.\d|\.log)/i.test(name) || format === 'log') return { problem: zeekMessage(expected) };
    return { problem: `not a table file: expected <Table>.ndjson, .jsonl, .json, .csv or .tsv (optionally .gz)${expectedList(expected)}` };
  }
  if (expected.length === 0) return { table: stem, format, gzip };
  const table = expected.find((t) => t.toLowerCase() === stem.toLowerCase());
  if (table) return { table, format, gzip };
  const guess = nearestTable(stem, expected);
  return { problem: `"${stem}" is not a table the detections read${guess ? `; did you mean "${guess}"?` : ''}${expectedList(expected)}` };
}

function nearestTable(stem: string, expected: readonly string[]): string | undefined {
  return closestName(stem, expected, 4);
}

function expectedList(expected: readonly string[]): string {
  return expected.length ? ` (expected: ${expected.join(', ')})` : '';
}

function zeekMessage(expected: readonly string[]): string {
  return `a raw Zeek log: certsoar reads tables as Log Analytics stores them${expectedList(expected)}; ingest Zeek into Sentinel (or export the table from Log Analytics) first`;
}

async function readTableText(file: string, gzip: boolean): Promise<string> {
  let bytes = await readFile(file);
  if (gzip) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new ValidationError('unreadable table file', [{ path: file, message: 'not gzip data although the name ends in .gz' }]);
    }
  }
  return decodeText(bytes, file);
}

/** UTF-8 with or without BOM, UTF-16 LE/BE with a BOM or recognisable by its zero bytes. */
export function decodeText(bytes: Buffer, file = 'file'): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return utf8(bytes.subarray(3), file);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes.length >= 2 && bytes[0] === 0 && bytes[1] !== 0) return new TextDecoder('utf-16be').decode(bytes);
  return utf8(bytes, file);
}

function utf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('unreadable table file', [{ path: file, message: 'not UTF-8 or UTF-16 text; save it as UTF-8' }]);
  }
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

export function rowsFromCsv(text: string, file: string, delimiter?: string): Row[] {
  const records = parseCsv(stripBom(text), file, delimiter);
  const header = records.shift();
  if (!header) return [];
  const columns = header.map(csvColumn);
  return records.map((record, i) => {
    if (record.length !== columns.length) {
      throw new ValidationError('unreadable table file', [{ path: `${file}:row ${i + 1}`, message: `${record.length} fields where the header has ${columns.length}` }]);
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

/**
 * RFC 4180 records through csv-parse: quoted fields may hold separators, newlines and "" for a
 * quote. The separator is the one of comma, semicolon and tab that the header uses most.
 */
export function parseCsv(text: string, file = 'csv', delimiter = detectDelimiter(text)): string[][] {
  try {
    return parseCsvRecords(text, { delimiter, record_delimiter: ['\r\n', '\n', '\r'], relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    throw new ValidationError('unreadable table file', [{ path: file, message: (err as Error).message }]);
  }
}

/** Counts the candidate separators in the header line, outside quotes. */
export function detectDelimiter(text: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of text.slice(0, 64 * 1024)) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch in counts) counts[ch]! += 1;
  }
  const [best, count] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]!;
  return count > 0 ? best : ',';
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
