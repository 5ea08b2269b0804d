import { RE2JS } from 're2js';

/**
 * Kusto's scalar semantics for the in-process evaluator, from the Kusto documentation:
 * strings are never null (an absent string is ""), numbers and booleans may be null, dynamic
 * arrays are arrays. All regex matching goes through RE2 (re2js), never JavaScript's RegExp:
 * adversary text must not be able to make a match take more than linear time.
 */

export type Value = string | number | boolean | null | Value[];

export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return JSON.stringify(v);
  return String(v);
}

export function toNumber(v: Value): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    if (v.trim() === '') return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** isempty(): "" or null. */
export function isEmptyValue(v: Value): boolean {
  return v === null || v === '';
}

export function truthy(v: Value): boolean {
  return v === true;
}

/** A compiled RE2 pattern with the operations the evaluator needs. */
export class Re2 {
  private readonly re: RE2JS;
  private readonly leading: RE2JS;
  private readonly trailing: RE2JS;
  readonly groups: number;

  constructor(readonly source: string) {
    // Fails on anything RE2 does not accept (look-arounds, back-references): clear error, at compile time.
    this.re = RE2JS.compile(source);
    this.groups = this.re.groupCount();
    const { flags, body } = splitFlags(source);
    this.leading = RE2JS.compile(`${flags}^(?:${body})+`);
    this.trailing = RE2JS.compile(`${flags}(?:${body})+$`);
  }

  test(value: string): boolean {
    return this.re.test(value);
  }

  /** extract(): the group's text, "" when there is no match or the group did not take part. */
  extract(value: string, group: number): string {
    if (!this.re.test(value)) return '';
    const m = this.re.exec(value);
    return (m?.[group] as string | null | undefined) ?? '';
  }

  /** extract_all() with one group: the group of every match, flat; with several, arrays of groups. */
  extractAll(value: string): Value[] {
    if (!this.re.test(value)) return [];
    const out: Value[] = [];
    for (const m of this.re.matchAll(value)) {
      if (this.groups <= 1) out.push((m[this.groups] as string | null | undefined) ?? '');
      else out.push(Array.from({ length: this.groups }, (_, i) => (m[i + 1] as string | null | undefined) ?? ''));
    }
    return out;
  }

  /** trim(): every leading and trailing match removed. */
  trim(value: string): string {
    return this.trimEnd(this.trimStart(value));
  }

  trimStart(value: string): string {
    const m = this.leading.test(value) ? this.leading.exec(value) : null;
    return m && m[0] ? value.slice((m[0] as string).length) : value;
  }

  trimEnd(value: string): string {
    if (!this.trailing.test(value)) return value;
    const m = this.trailing.exec(value);
    return m && m[0] ? value.slice(0, value.length - (m[0] as string).length) : value;
  }

  replace(value: string, rewrite: string): string {
    if (!this.re.test(value)) return value;
    // KQL's rewrite refers to groups as \1; RE2JS's replaceAll as $1.
    return this.re.matcher(value).replaceAll(rewrite.replace(/\$/g, '\\$').replace(/\\(\d)/g, '$$$1'));
  }
}

/** Leading inline flags like (?i) stay outside the group the trim patterns wrap the body in. */
function splitFlags(source: string): { flags: string; body: string } {
  const m = /^\(\?[a-zA-Z]+\)/.exec(source);
  return m ? { flags: m[0], body: source.slice(m[0].length) } : { flags: '', body: source };
}

const isAlnum = (code: number) => (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127;

/**
 * has: the term occurs as a whole term (Kusto indexes terms as runs of alphanumeric characters;
 * a term's alphanumeric ends must sit at term boundaries), case-insensitive.
 */
export function hasTerm(value: string, term: string): boolean {
  if (term === '') return true;
  const v = value.toLowerCase();
  const t = term.toLowerCase();
  const startsAlnum = isAlnum(t.charCodeAt(0));
  const endsAlnum = isAlnum(t.charCodeAt(t.length - 1));
  for (let i = v.indexOf(t); i >= 0; i = v.indexOf(t, i + 1)) {
    const before = i === 0 || !startsAlnum || !isAlnum(v.charCodeAt(i - 1));
    const after = i + t.length === v.length || !endsAlnum || !isAlnum(v.charCodeAt(i + t.length));
    if (before && after) return true;
  }
  return false;
}

/** Equality the way Kusto compares: numbers numerically, strings ordinally, null equal to nothing. */
export function kustoEquals(a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a);
    const y = toNumber(b);
    return x === null || y === null ? null : x === y;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  return toText(a) === toText(b);
}

/** Strict UTF-16LE base64 decode; "" when the text is not base64 of whole UTF-16 code units. */
export function decodeUtf16leBase64(value: string): string {
  const s = value.trim();
  if (s === '' || s.length % 4 !== 0 || !isBase64(s)) return '';
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % 2 !== 0) return '';
  return bytes.toString('utf16le');
}

function isBase64(s: string): boolean {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - padding; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}
