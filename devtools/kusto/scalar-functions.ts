import { groupCount, re2, regexMatches } from './regex.js';
import {
  KqlDateTime,
  KqlError,
  KqlNotImplementedError,
  KqlTimespan,
  isArray,
  kqlEquals,
  parseDateTime,
  toKqlString,
  type KqlValue,
} from './values.js';

/**
 * Kusto's scalar functions, each as its page on learn.microsoft.com/kusto/query/<name>-function
 * documents it. Arguments arrive evaluated; `context` carries the clock and the current row's
 * ingestion time. Anything not listed here is refused by the evaluator.
 */

export interface ScalarContext {
  now: number;
  ingestionTime: KqlDateTime | null;
}

type Fn = (args: KqlValue[], context: ScalarContext) => KqlValue;

interface FunctionDef {
  min: number;
  max: number;
  fn: Fn;
}

const str = (v: KqlValue | undefined) => toKqlString(v ?? null);
const num = (v: KqlValue | undefined): number | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isNaN(n) ? null : n;
  }
  if (v instanceof KqlTimespan) return v.ms * 10_000;
  if (v instanceof KqlDateTime) return (v.ms + EPOCH_OFFSET_MS) * 10_000;
  return null;
};
const int = (v: KqlValue | undefined): number | null => {
  const n = num(v);
  return n === null || !Number.isFinite(n) ? null : Math.trunc(n);
};

/** Milliseconds from 0001-01-01 (where Kusto's ticks start) to the Unix epoch. */
const EPOCH_OFFSET_MS = 62_135_596_800_000;

function def(min: number, max: number, fn: Fn): FunctionDef {
  return { min, max, fn };
}

const STRINGS: Record<string, FunctionDef> = {
  tolower: def(1, 1, ([s]) => str(s).toLowerCase()),
  toupper: def(1, 1, ([s]) => str(s).toUpperCase()),
  strlen: def(1, 1, ([s]) => str(s).length),
  strcat: def(1, 64, (args) => args.map(str).join('')),
  trim: def(2, 2, ([re, s]) => trimEnd(str(re), trimStart(str(re), str(s)))),
  trim_start: def(2, 2, ([re, s]) => trimStart(str(re), str(s))),
  trim_end: def(2, 2, ([re, s]) => trimEnd(str(re), str(s))),
  substring: def(2, 3, ([s, start, length]) => substring(str(s), int(start), length === undefined ? undefined : int(length))),
  indexof: def(2, 5, ([s, lookup, start, length, occurrence]) => indexOf(str(s), str(lookup), start, length, occurrence)),
  extract: def(3, 4, ([re, group, s, typeLiteral]) => extract(str(re), int(group), str(s), typeLiteral)),
  extract_all: def(2, 3, (args) => extractAll(args)),
  replace_regex: def(3, 3, ([s, re, rewrite]) => replaceRegex(str(s), str(re), str(rewrite))),
  replace_string: def(3, 3, ([s, lookup, rewrite]) => (str(lookup) === '' ? str(s) : str(s).split(str(lookup)).join(str(rewrite)))),
  split: def(2, 3, ([s, delimiter, index]) => split(str(s), str(delimiter), index)),
  countof: def(2, 3, ([s, search, kind]) => countOf(str(s), str(search), kind === undefined ? 'normal' : str(kind))),
  base64_decode_tostring: def(1, 1, ([s]) => base64DecodeToString(str(s))),
  base64_decode_toarray: def(1, 1, ([s]) => (BASE64.test(str(s)) ? [...Buffer.from(str(s), 'base64')] : null)),
  base64_encode_tostring: def(1, 1, ([s]) => Buffer.from(str(s), 'utf8').toString('base64')),
  unicode_codepoints_from_string: def(1, 1, ([s]) => Array.from(str(s), (c) => c.codePointAt(0) as number)),
  unicode_codepoints_to_string: def(1, 64, (args) => codepointsToString(args)),
  make_string: def(1, 64, (args) => codepointsToString(args)),
};

const LOGIC: Record<string, FunctionDef> = {
  iff: def(3, 3, ([c, a, b]) => (c === true ? (a ?? null) : (b ?? null))),
  iif: def(3, 3, ([c, a, b]) => (c === true ? (a ?? null) : (b ?? null))),
  case: def(3, 129, (args) => caseOf(args)),
  coalesce: def(2, 64, (args) => coalesce(args)),
  not: def(1, 1, ([b]) => (typeof b === 'boolean' ? !b : null)),
  isempty: def(1, 1, ([v]) => isEmpty(v ?? null)),
  isnotempty: def(1, 1, ([v]) => !isEmpty(v ?? null)),
  isnull: def(1, 1, ([v]) => v === null || v === undefined),
  isnotnull: def(1, 1, ([v]) => !(v === null || v === undefined)),
};

const DYNAMIC: Record<string, FunctionDef> = {
  array_concat: def(1, 64, (args) => arrayConcat(args)),
  pack_array: def(1, 64, (args) => args.map((a) => a ?? null)),
  set_has_element: def(2, 2, ([set, value]) => setHasElement(set ?? null, value ?? null)),
  array_length: def(1, 1, ([a]) => (isArray(a) ? a.length : null)),
  array_index_of: def(2, 2, ([a, v]) => (isArray(a) ? a.findIndex((e) => kqlEquals(e as KqlValue, v ?? null)) : null)),
  array_slice: def(3, 3, ([a, start, end]) => arraySlice(a ?? null, int(start), int(end))),
  strcat_array: def(2, 2, ([a, delimiter]) => (isArray(a) ? a.map((e) => toKqlString(e as KqlValue)).join(str(delimiter)) : '')),
  parse_json: def(1, 1, ([s]) => parseJson(s ?? null)),
  todynamic: def(1, 1, ([s]) => parseJson(s ?? null)),
};

const CONVERSIONS: Record<string, FunctionDef> = {
  tostring: def(1, 1, ([v]) => str(v)),
  toint: def(1, 1, ([v]) => int(v)),
  tolong: def(1, 1, ([v]) => int(v)),
  todouble: def(1, 1, ([v]) => num(v)),
  toreal: def(1, 1, ([v]) => num(v)),
  tobool: def(1, 1, ([v]) => toBool(v ?? null)),
  toboolean: def(1, 1, ([v]) => toBool(v ?? null)),
  todatetime: def(1, 1, ([v]) => (v instanceof KqlDateTime ? v : typeof v === 'string' ? parseDateTime(v) : null)),
  totimespan: def(1, 1, ([v]) => (v instanceof KqlTimespan ? v : null)),
};

const TIME: Record<string, FunctionDef> = {
  now: def(0, 1, ([offset], c) => new KqlDateTime(c.now + (offset instanceof KqlTimespan ? offset.ms : 0))),
  ago: def(1, 1, ([span], c) => {
    if (!(span instanceof KqlTimespan)) throw new KqlError('ago() takes a timespan');
    return new KqlDateTime(c.now - span.ms);
  }),
  ingestion_time: def(0, 0, (_args, c) => c.ingestionTime),
  bin: def(2, 2, ([v, size]) => bin(v ?? null, size ?? null)),
  floor: def(2, 2, ([v, size]) => bin(v ?? null, size ?? null)),
  datetime_diff: def(3, 3, ([part, a, b]) => datetimeDiff(str(part), a ?? null, b ?? null)),
  format_datetime: def(2, 2, ([d, format]) => (d instanceof KqlDateTime ? formatDatetime(d, str(format)) : '')),
};

export const SCALAR_FUNCTIONS: Record<string, FunctionDef> = { ...STRINGS, ...LOGIC, ...DYNAMIC, ...CONVERSIONS, ...TIME };

export function callScalar(name: string, args: KqlValue[], context: ScalarContext): KqlValue {
  const f = SCALAR_FUNCTIONS[name];
  if (!f) throw new KqlNotImplementedError(`function ${name}()`);
  if (args.length < f.min || args.length > f.max) throw new KqlError(`${name}() takes ${f.min}..${f.max} arguments, got ${args.length}`);
  return f.fn(args, context);
}

/** Leading matches of the regex, removed until none is left (trim_start). */
function trimStart(pattern: string, s: string): string {
  const re = re2(`^(?:${pattern})`);
  let out = s;
  for (;;) {
    const m = re.matcher(out);
    if (!m.find() || m.end() === 0) return out;
    out = out.slice(m.end());
  }
}

/** Trailing matches of the regex, removed until none is left (trim_end). */
function trimEnd(pattern: string, s: string): string {
  const re = re2(`(?:${pattern})$`);
  let out = s;
  for (;;) {
    const m = re.matcher(out);
    if (!m.find() || m.start() === out.length) return out;
    out = out.slice(0, m.start());
  }
}

function substring(s: string, start: number | null, length: number | null | undefined): string {
  if (start === null || length === null) return '';
  if (start < 0) throw new KqlNotImplementedError('substring() with a negative start');
  if (length !== undefined && length < 0) return '';
  return length === undefined ? s.slice(start) : s.slice(start, start + length);
}

function indexOf(s: string, lookup: string, startArg?: KqlValue, lengthArg?: KqlValue, occurrenceArg?: KqlValue): number | null {
  let start = startArg === undefined ? 0 : int(startArg);
  const length = lengthArg === undefined ? -1 : int(lengthArg);
  const occurrence = occurrenceArg === undefined ? 1 : int(occurrenceArg);
  if (start === null || length === null || occurrence === null) return null;
  if (occurrence < 0 || length < -1) return null;
  if (start < 0) start = Math.max(0, s.length + start);
  const end = length === -1 ? s.length : Math.min(s.length, start + length);
  let found = -1;
  let from = start;
  for (let n = 0; n < Math.max(occurrence, 1); n++) {
    found = s.indexOf(lookup, from);
    if (found < 0 || found + lookup.length > end) return -1;
    from = found + 1;
  }
  return found;
}

function extract(pattern: string, group: number | null, s: string, typeLiteral: KqlValue | undefined): string {
  if (typeLiteral !== undefined) throw new KqlNotImplementedError('extract() with a type literal');
  if (group === null) return '';
  const [first] = regexMatches(pattern, s, 1);
  return first?.[group] ?? '';
}

function extractAll(args: KqlValue[]): KqlValue {
  if (args.length === 3) throw new KqlNotImplementedError('extract_all() with captureGroups');
  const pattern = str(args[0]);
  const groups = groupCount(pattern);
  if (groups < 1 || groups > 16) throw new KqlError('extract_all() needs a regex with 1 to 16 capture groups');
  const matches = regexMatches(pattern, str(args[1]));
  if (matches.length === 0) return null;
  return matches.map((m) => (groups === 1 ? (m[1] ?? '') : m.slice(1).map((g) => g ?? '')));
}

/** The rewrite refers to groups as \0..\9 (learn.microsoft.com/kusto/query/replace-regex-function). */
function replaceRegex(s: string, pattern: string, rewrite: string): string {
  const m = re2(pattern).matcher(s);
  let out = '';
  let last = 0;
  while (m.find()) {
    out += s.slice(last, m.start());
    out += rewrite.replace(/\\(\d)/g, (_all, d: string) => m.group(Number(d)) ?? '');
    last = m.end();
    if (m.end() === m.start() && m.end() >= s.length) break;
  }
  return out + s.slice(last);
}

function split(s: string, delimiter: string, index: KqlValue | undefined): KqlValue {
  if (delimiter === '') throw new KqlError('split() needs a non-empty delimiter');
  const parts = s.split(delimiter);
  if (index === undefined) return parts;
  const i = int(index);
  if (i === null) return null;
  const at = i < 0 ? parts.length + i : i;
  return at >= 0 && at < parts.length ? [parts[at] as string] : [];
}

/** "normal" counts overlapping occurrences; "regex" counts regex matches. */
function countOf(s: string, search: string, kind: string): number {
  if (kind === 'regex') return regexMatches(search, s).length;
  if (kind !== 'normal') throw new KqlError(`countof() kind must be "normal" or "regex", got "${kind}"`);
  if (search === '') return 0;
  let n = 0;
  for (let i = s.indexOf(search); i >= 0; i = s.indexOf(search, i + 1)) n++;
  return n;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Invalid base64 or bytes that are not UTF-8 give null, which a string shows as "". */
function base64DecodeToString(s: string): string {
  if (!BASE64.test(s)) return '';
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(s, 'base64'));
  } catch {
    return '';
  }
}

function codepointsToString(args: KqlValue[]): string {
  const points = args.flatMap((a) => (isArray(a) ? a : [a]));
  return points.map((p) => String.fromCodePoint(Number(p))).join('');
}

function caseOf(args: KqlValue[]): KqlValue {
  if (args.length % 2 === 0) throw new KqlError('case() needs predicate/value pairs and an else value');
  for (let i = 0; i + 1 < args.length; i += 2) if (args[i] === true) return args[i + 1] ?? null;
  return args[args.length - 1] ?? null;
}

/** The first non-null argument, or for strings the first non-empty one. */
function coalesce(args: KqlValue[]): KqlValue {
  for (const a of args) if (a !== null && a !== undefined && a !== '') return a;
  return typeof args[0] === 'string' ? '' : null;
}

function isEmpty(v: KqlValue): boolean {
  if (v === null || v === '') return true;
  if (typeof v === 'object' && !(v instanceof KqlDateTime) && !(v instanceof KqlTimespan)) {
    throw new KqlNotImplementedError('isempty()/isnotempty() over a dynamic value');
  }
  return false;
}

function arrayConcat(args: KqlValue[]): KqlValue {
  const out: unknown[] = [];
  for (const a of args) {
    // The documentation does not say what a non-array argument (a null from extract_all) gives.
    if (!isArray(a)) throw new KqlNotImplementedError(`array_concat() over a non-array argument (${a === null ? 'null' : typeof a})`);
    out.push(...a);
  }
  return out;
}

/** Inclusive start and end; negative indexes count from the end (learn.microsoft.com/kusto/query/array-slice-function). */
function arraySlice(a: KqlValue, start: number | null, end: number | null): KqlValue {
  if (!isArray(a) || start === null || end === null) return null;
  const s = start < 0 ? a.length + start : start;
  const e = end < 0 ? a.length + end : end;
  return a.slice(Math.max(0, s), Math.max(0, e + 1));
}

function setHasElement(set: KqlValue, value: KqlValue): boolean {
  if (!isArray(set)) throw new KqlNotImplementedError('set_has_element() over a non-array');
  return set.some((e) => kqlEquals(e as KqlValue, value));
}

function parseJson(v: KqlValue): KqlValue {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as KqlValue;
  } catch {
    return v;
  }
}

function toBool(v: KqlValue): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    const n = Number(t);
    return t !== '' && !Number.isNaN(n) ? n !== 0 : null;
  }
  return null;
}

function bin(v: KqlValue, size: KqlValue): KqlValue {
  if (v === null || size === null) return null;
  if (v instanceof KqlDateTime && size instanceof KqlTimespan) {
    const since = v.ms + EPOCH_OFFSET_MS;
    return new KqlDateTime(Math.floor(since / size.ms) * size.ms - EPOCH_OFFSET_MS);
  }
  if (v instanceof KqlTimespan && size instanceof KqlTimespan) return new KqlTimespan(Math.floor(v.ms / size.ms) * size.ms);
  if (typeof v === 'number' && typeof size === 'number') return Math.floor(v / size) * size;
  throw new KqlNotImplementedError('bin() over these argument types');
}

/** Counts the period boundaries between the two datetimes (learn.microsoft.com/kusto/query/datetime-diff-function). */
function datetimeDiff(part: string, a: KqlValue, b: KqlValue): number | null {
  if (!(a instanceof KqlDateTime) || !(b instanceof KqlDateTime)) return null;
  const da = new Date(a.ms);
  const db = new Date(b.ms);
  const months = (d: Date) => d.getUTCFullYear() * 12 + d.getUTCMonth();
  const fixed: Record<string, number> = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000, millisecond: 1 };
  const p = part.toLowerCase();
  if (p === 'year') return da.getUTCFullYear() - db.getUTCFullYear();
  if (p === 'quarter') return Math.floor(months(da) / 3) - Math.floor(months(db) / 3);
  if (p === 'month') return months(da) - months(db);
  // Weeks start on Sunday; 0001-01-01 was a Monday.
  if (p === 'week') return Math.floor((a.ms + EPOCH_OFFSET_MS + 86_400_000) / 604_800_000) - Math.floor((b.ms + EPOCH_OFFSET_MS + 86_400_000) / 604_800_000);
  const unit = fixed[p];
  if (!unit) throw new KqlNotImplementedError(`datetime_diff() period "${part}"`);
  return Math.floor((a.ms + EPOCH_OFFSET_MS) / unit) - Math.floor((b.ms + EPOCH_OFFSET_MS) / unit);
}

/**
 * format_datetime with the documented numeric specifiers (learn.microsoft.com/kusto/query/format-datetime-function):
 * y, yy, yyyy, M, MM, d, dd, H, HH, h, hh, m, mm, s, ss, f…fffffff, tt; separators pass through.
 * Sub-millisecond digits are zeros (values are held in milliseconds).
 */
function formatDatetime(d: KqlDateTime, format: string): string {
  const t = new Date(d.ms);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const fraction = pad(t.getUTCMilliseconds(), 3) + '0000';
  const hour12 = t.getUTCHours() % 12 || 12;
  const tokens: Record<string, () => string> = {
    yyyy: () => pad(t.getUTCFullYear(), 4),
    yy: () => pad(t.getUTCFullYear() % 100, 2),
    y: () => String(t.getUTCFullYear() % 100),
    MM: () => pad(t.getUTCMonth() + 1, 2),
    M: () => String(t.getUTCMonth() + 1),
    dd: () => pad(t.getUTCDate(), 2),
    d: () => String(t.getUTCDate()),
    HH: () => pad(t.getUTCHours(), 2),
    H: () => String(t.getUTCHours()),
    hh: () => pad(hour12, 2),
    h: () => String(hour12),
    mm: () => pad(t.getUTCMinutes(), 2),
    m: () => String(t.getUTCMinutes()),
    ss: () => pad(t.getUTCSeconds(), 2),
    s: () => String(t.getUTCSeconds()),
    tt: () => (t.getUTCHours() < 12 ? 'AM' : 'PM'),
  };
  let out = '';
  for (let i = 0; i < format.length; ) {
    const ch = format[i] as string;
    let run = 1;
    while (format[i + run] === ch) run++;
    const token = ch.repeat(run);
    if (ch === 'f' && run <= 7) out += fraction.slice(0, run);
    else if (tokens[token]) out += (tokens[token] as () => string)();
    else if (/[a-zA-Z]/.test(ch)) throw new KqlNotImplementedError(`format_datetime() specifier "${token}"`);
    else out += token;
    i += run;
  }
  return out;
}
