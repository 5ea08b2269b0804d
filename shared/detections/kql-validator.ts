import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Parses and semantically analyses KQL with Kusto's own language service
 * (@kusto/language-service-next) against the table schemas kept in ./schemas.
 * Development-only: the service is 16 MB, so nothing under functions/ may import this file.
 */

export interface TableSchema {
  name: string;
  columns: Array<{ name: string; type: string }>;
}

export interface KqlDiagnostic {
  severity: string;
  code: string;
  message: string;
  /** Offset and 1-based line/column of the problem in the query text. */
  start: number;
  length: number;
  line: number;
  column: number;
}

export const SCHEMA_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));

/** Kusto scalar type names for the type spellings the schema files use. */
const TYPE_NAMES: Record<string, string> = {
  string: 'string',
  int: 'int',
  int32: 'int',
  long: 'long',
  int64: 'long',
  bigint: 'long',
  real: 'real',
  double: 'real',
  float: 'real',
  decimal: 'decimal',
  bool: 'bool',
  boolean: 'bool',
  datetime: 'datetime',
  timespan: 'timespan',
  guid: 'guid',
  dynamic: 'dynamic',
};

/** Reads every `{"Name", "Properties": [{"Name", "Type"}]}` file in a folder. */
/**
 * Columns in Microsoft's table references that the vendored Azure-Sentinel schema copies lack,
 * added to those tables (the copies stay byte-for-byte): DeviceProcessEvents' version-info columns,
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table.
 */
const COLUMN_ADDITIONS: Readonly<Record<string, ReadonlyArray<{ name: string; type: string }>>> = {
  DeviceProcessEvents: [
    { name: 'ProcessVersionInfoOriginalFileName', type: 'string' },
    { name: 'ProcessVersionInfoCompanyName', type: 'string' },
    { name: 'InitiatingProcessVersionInfoOriginalFileName', type: 'string' },
  ],
};

export function loadSchemas(dir: string = SCHEMA_DIR): TableSchema[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { Name: string; Properties: Array<{ Name: string; Type: string }> };
      const additions = dir === SCHEMA_DIR ? (COLUMN_ADDITIONS[doc.Name] ?? []) : [];
      const present = new Set(doc.Properties.map((p) => p.Name));
      const properties = [...doc.Properties, ...additions.filter((a) => !present.has(a.name)).map((a) => ({ Name: a.name, Type: a.type }))];
      return {
        name: doc.Name,
        columns: properties.map((p) => {
          const type = TYPE_NAMES[p.Type.toLowerCase()];
          if (!type) throw new Error(`${f}: column ${p.Name} has unknown type ${p.Type}`);
          return { name: p.Name, type };
        }),
      };
    });
}

// The language service is a Bridge.NET build that installs globals (Bridge, System, Kusto).
/* eslint-disable @typescript-eslint/no-explicit-any */
let kusto: any;
/** The Kusto.Language namespace of the language service (loaded once). */
export function language(): any {
  if (!kusto) {
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    kusto = (globalThis as any).Kusto.Language;
  }
  return kusto;
}

const globalsCache = new Map<string, unknown>();
/** The language service's global state with one database holding the given tables. */
export function globalsFor(schemas: readonly TableSchema[]): unknown {
  const cacheKey = JSON.stringify(schemas);
  let globals = globalsCache.get(cacheKey);
  if (!globals) {
    const K = language();
    const tables = schemas.map(
      (t) => new K.Symbols.TableSymbol.$ctor7(t.name, `(${t.columns.map((c) => `['${c.name}']:${c.type}`).join(', ')})`, null),
    );
    const database = new K.Symbols.DatabaseSymbol.$ctor1('certsoar', tables, false);
    globals = K.GlobalState.Default.WithDatabase(database);
    globalsCache.set(cacheKey, globals);
  }
  return globals;
}

/** Every diagnostic (errors and warnings) the language service reports for the query. */
export function analyseKql(query: string, schemas: readonly TableSchema[] = loadSchemas()): KqlDiagnostic[] {
  const K = language();
  const code = K.KustoCode.ParseAndAnalyze(query, globalsFor(schemas));
  const list = code.GetDiagnostics();
  const out: KqlDiagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    const before = query.slice(0, d.Start as number);
    const lines = before.split('\n');
    out.push({
      severity: String(d.Severity),
      code: String(d.Code),
      message: String(d.Message),
      start: d.Start as number,
      length: d.Length as number,
      line: lines.length,
      column: (lines[lines.length - 1]?.length ?? 0) + 1,
    });
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Only the error-severity diagnostics: what makes a query unusable. */
export function kqlErrors(query: string, schemas?: readonly TableSchema[]): KqlDiagnostic[] {
  return analyseKql(query, schemas).filter((d) => d.severity === 'Error');
}

/** The value a KQL string literal denotes, as Kusto reads it (for testing escaping). */
export function kqlLiteralValue(literal: string): string | null {
  return language().KustoFacts.GetStringLiteralValue(literal) as string | null;
}
