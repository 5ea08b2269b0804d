/**
 * The values a KQL expression evaluates to. Kusto's scalar types map to:
 * string → string (never null), long/int/real → number, bool → boolean, datetime → KqlDateTime,
 * timespan → KqlTimespan, dynamic → parsed JSON (arrays, objects, JSON scalars), and null.
 */

/** A datetime, as milliseconds since the Unix epoch (Kusto keeps 100 ns ticks; tests need ms). */
export class KqlDateTime {
  constructor(readonly ms: number) {}
  toISOString(): string {
    return new Date(this.ms).toISOString();
  }
}

/** A timespan, in milliseconds. */
export class KqlTimespan {
  constructor(readonly ms: number) {}
}

export type KqlValue = null | string | number | boolean | KqlDateTime | KqlTimespan | unknown[] | { [key: string]: unknown };

/** A tabular value: its column names in order and its rows keyed by column name. */
export interface KqlTable {
  columns: string[];
  rows: KqlRow[];
}

/** A row; the hidden ingestion time rides along under INGESTION_TIME and is never a column. */
export type KqlRow = Record<string, KqlValue>;

export const INGESTION_TIME = '$ingestion_time';

export class KqlError extends Error {
  override name = 'KqlError';
}

/** Thrown for any construct, operator or function the evaluator does not implement (fail closed). */
export class KqlNotImplementedError extends KqlError {
  override name = 'KqlNotImplementedError';
  constructor(what: string) {
    super(`KQL evaluator: ${what} is not implemented`);
  }
}

export function isArray(v: KqlValue | unknown): v is unknown[] {
  return Array.isArray(v);
}

export function isBag(v: KqlValue | unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof KqlDateTime) && !(v instanceof KqlTimespan);
}

/** tostring(): how Kusto prints a value; null becomes "". */
export function toKqlString(v: KqlValue | unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof KqlDateTime) return formatDateTime(v);
  if (v instanceof KqlTimespan) return formatTimespan(v);
  return JSON.stringify(v);
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return String(n);
}

/** Kusto prints datetimes as ISO 8601 with seven fractional digits. */
export function formatDateTime(d: KqlDateTime): string {
  const iso = new Date(d.ms).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}0000Z`;
}

function formatTimespan(t: KqlTimespan): string {
  const sign = t.ms < 0 ? '-' : '';
  let ms = Math.abs(t.ms);
  const days = Math.floor(ms / 86_400_000);
  ms -= days * 86_400_000;
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const m = Math.floor(ms / 60_000);
  ms -= m * 60_000;
  const s = Math.floor(ms / 1000);
  ms -= s * 1000;
  const pad = (x: number) => String(x).padStart(2, '0');
  const frac = ms ? `.${String(ms).padStart(3, '0')}0000` : '';
  return `${sign}${days ? `${days}.` : ''}${pad(h)}:${pad(m)}:${pad(s)}${frac}`;
}

/** Parses the datetime spellings Kusto accepts in datetime(...) and todatetime(); no zone means UTC. */
export function parseDateTime(text: string): KqlDateTime | null {
  const t = text.trim();
  if (!t || t === 'null') return null;
  const iso = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (!iso) return null;
  let s = t.replace(' ', 'T');
  if (!iso[1]) s += 'T00:00:00';
  if (!iso[4]) s += 'Z';
  // JavaScript keeps milliseconds: cut longer fractions (Kusto's 100 ns ticks) to three digits.
  s = s.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : new KqlDateTime(ms);
}

/** Equality as ==, in and set_has_element use it: strings case-sensitive, numbers by value. */
export function kqlEquals(a: KqlValue | unknown, b: KqlValue | unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (a instanceof KqlDateTime && b instanceof KqlDateTime) return a.ms === b.ms;
  if (a instanceof KqlTimespan && b instanceof KqlTimespan) return a.ms === b.ms;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return toKqlString(a) === toKqlString(b);
}

/** Ordering for <, >, sort, min/max: null when the values are not comparable. */
export function kqlCompare(a: KqlValue | unknown, b: KqlValue | unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (a instanceof KqlDateTime && b instanceof KqlDateTime) return Math.sign(a.ms - b.ms);
  if (a instanceof KqlTimespan && b instanceof KqlTimespan) return Math.sign(a.ms - b.ms);
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Math.sign(Number(a) - Number(b));
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/** A stable key for grouping, distinct, dcount and joins. */
export function groupKey(v: KqlValue | unknown): string {
  if (v === null || v === undefined) return 'n:';
  if (v instanceof KqlDateTime) return `d:${v.ms}`;
  if (v instanceof KqlTimespan) return `t:${v.ms}`;
  if (typeof v === 'string') return `s:${v}`;
  if (typeof v === 'number') return `x:${v}`;
  if (typeof v === 'boolean') return `b:${v}`;
  return `j:${JSON.stringify(v)}`;
}
