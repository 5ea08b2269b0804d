import { globalsFor, language, loadSchemas, type TableSchema } from '../../shared/detections/kql-validator.js';
import { Scope, type RunContext } from './environment.js';
import { bindLet } from './expressions.js';
import { elements, kindOf, staticColumns, type Node, type StaticColumn } from './syntax.js';
import { compileTabular } from './tabular.js';
import { INGESTION_TIME, KqlDateTime, KqlError, KqlNotImplementedError, parseDateTime, type KqlRow, type KqlTable, type KqlValue } from './values.js';

/**
 * Executes KQL over in-memory tables: the query is parsed and bound by Microsoft's own language
 * service against the table schemas (shared/detections/schemas), refused if the service reports
 * an error, then its syntax tree is walked. Test and development tooling only.
 */

export interface ExecuteOptions {
  /** Rows per table, as plain objects keyed by column name (absent columns take the type's empty value). */
  tables: Record<string, ReadonlyArray<Record<string, unknown>>>;
  /** The clock for now() and ago(); default the real time. */
  now?: Date;
  schemas?: readonly TableSchema[];
  /** Per-row field that ingestion_time() reads (never a column); default `_IngestionTime`, else TimeGenerated. */
  ingestionTimeField?: string;
}

export interface KqlResult {
  columns: StaticColumn[];
  rows: Array<Record<string, KqlValue>>;
}

const DEFAULT_INGESTION_FIELD = '_IngestionTime';

let defaultSchemas: TableSchema[] | undefined;

/** Parsed queries per schema set: the same text is executed over many tables in tests. */
const parsedCache = new WeakMap<readonly TableSchema[], Map<string, Node>>();

function parse(query: string, schemas: readonly TableSchema[]): Node {
  let perSchemas = parsedCache.get(schemas);
  if (!perSchemas) parsedCache.set(schemas, (perSchemas = new Map()));
  let root = perSchemas.get(query);
  if (!root) {
    root = parseAndAnalyse(query, schemas);
    if (perSchemas.size > 200) perSchemas.clear();
    perSchemas.set(query, root);
  }
  return root;
}

 
function parseAndAnalyse(query: string, schemas: readonly TableSchema[]): Node {
  const code = language().KustoCode.ParseAndAnalyze(query, globalsFor(schemas));
  const diagnostics = code.GetDiagnostics();
  const errors: string[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (String(d.Severity) === 'Error') errors.push(`${String(d.Code)} at ${d.Start as number}: ${String(d.Message)}`);
  }
  if (errors.length) throw new KqlError(`the language service rejects the query: ${errors.join('; ')}`);
  return code.Syntax;
}
 

export function executeKql(query: string, options: ExecuteOptions): KqlResult {
  const schemas = options.schemas ?? (defaultSchemas ??= loadSchemas());
  const root = parse(query, schemas);
  const run: RunContext = {
    now: (options.now ?? new Date()).getTime(),
    tables: typedTables(options.tables, schemas, options.ingestionTimeField ?? DEFAULT_INGESTION_FIELD),
    memo: new Map(),
  };
  const scope = new Scope(run);
  let result: Node | undefined;
  for (const statement of elements(root.Statements)) {
    const kind = kindOf(statement);
    if (kind === 'LetStatement') bindLet(statement, scope);
    else if (kind === 'ExpressionStatement') result = statement.Expression;
    else throw new KqlNotImplementedError(`statement ${kind}`);
  }
  if (!result) throw new KqlError('the query has no tabular expression statement');
  const columns = staticColumns(result);
  const table = compileTabular(result)(scope);
  const rows = table.rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, outputValue(r[c.name], c.type)])));
  return { columns, rows };
}

function outputValue(v: KqlValue | undefined, type: string): KqlValue {
  if (v === undefined || v === null) return type === 'string' ? '' : null;
  return v;
}

function typedTables(input: ExecuteOptions['tables'], schemas: readonly TableSchema[], ingestionField: string): Map<string, KqlTable> {
  const out = new Map<string, KqlTable>();
  for (const [name, rows] of Object.entries(input)) {
    const schema = schemas.find((s) => s.name === name);
    if (!schema) throw new KqlError(`table ${name} has no schema in ${schemas.map((s) => s.name).join(', ')}`);
    out.set(name, { columns: schema.columns.map((c) => c.name), rows: rows.map((r, i) => typedRow(schema, r, i, ingestionField)) });
  }
  return out;
}

/** A table row holding the columns that have values, typed by the schema (dynamic parsed); absent ones read as ""/null. */
export function typedRow(schema: TableSchema, raw: Record<string, unknown>, index: number, ingestionField: string): KqlRow {
  const known = new Set(schema.columns.map((c) => c.name));
  for (const key of Object.keys(raw)) {
    if (!known.has(key) && key !== ingestionField) throw new KqlError(`${schema.name} row ${index}: column ${key} is not in the table's schema`);
  }
  const row: KqlRow = {};
  for (const c of schema.columns) {
    const v = raw[c.name];
    if (v !== undefined && v !== null) row[c.name] = typedCell(v, c.type, `${schema.name} row ${index} column ${c.name}`);
  }
  const ingestion = raw[ingestionField] ?? raw.TimeGenerated;
  row[INGESTION_TIME] = ingestion === undefined || ingestion === null ? null : typedCell(ingestion, 'datetime', `${schema.name} row ${index} ${ingestionField}`);
  return row;
}

function typedCell(v: unknown, type: string, where: string): KqlValue {
  if (v === undefined || v === null) return type === 'string' ? '' : null;
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new KqlError(`${where}: expected a string, got ${typeof v}`);
      return v;
    case 'int':
    case 'long':
    case 'real': {
      if (v === '') return null;
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n)) throw new KqlError(`${where}: expected a number, got ${JSON.stringify(v)}`);
      return type === 'real' ? n : Math.trunc(n);
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new KqlError(`${where}: expected a bool, got ${JSON.stringify(v)}`);
      return v;
    case 'datetime': {
      if (v === '') return null;
      const d = v instanceof Date ? new KqlDateTime(v.getTime()) : typeof v === 'string' ? parseDateTime(v) : null;
      if (!d) throw new KqlError(`${where}: expected a datetime, got ${JSON.stringify(v)}`);
      return d;
    }
    case 'dynamic':
      if (typeof v === 'string') {
        try {
          return JSON.parse(v) as KqlValue;
        } catch {
          return v;
        }
      }
      return v as KqlValue;
    case 'guid':
      return String(v);
    default:
      throw new KqlNotImplementedError(`column type ${type}`);
  }
}
