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
  private readonly trimmer: CharClassTrimmer | undefined;
  private readonly leading: RE2JS | undefined;
  private readonly trailing: RE2JS | undefined;
  readonly groups: number;
  /** The last input and its match: one row asks for several groups of one regex over one value. */
  private lastInput: string | undefined;
  private lastMatch: Array<string | null> | null = null;

  constructor(readonly source: string) {
    // Fails on anything RE2 does not accept (look-arounds, back-references): clear error, at compile time.
    this.re = RE2JS.compile(source);
    this.groups = this.re.groupCount();
    this.trimmer = CharClassTrimmer.of(source);
    if (!this.trimmer) {
      const { flags, body } = splitFlags(source);
      this.leading = RE2JS.compile(`${flags}^(?:${body})+`);
      this.trailing = RE2JS.compile(`${flags}(?:${body})+$`);
    }
  }

  /** The last value test() answered for (a where step, then extracts of the same value). */
  private lastTested: string | undefined;
  private lastTestResult = false;

  test(value: string): boolean {
    if (value === this.lastInput) return this.lastMatch !== null;
    if (value !== this.lastTested) {
      this.lastTestResult = this.re.test(value);
      this.lastTested = value;
    }
    return this.lastTestResult;
  }

  private match(value: string): Array<string | null> | null {
    if (value !== this.lastInput) {
      // The DFA answers "no match" cheaply; only a match pays for the capturing engine.
      this.lastMatch = this.test(value) ? (this.re.exec(value) as Array<string | null> | null) : null;
      this.lastInput = value;
    }
    return this.lastMatch;
  }

  /** extract(): the group's text, "" when there is no match or the group did not take part. */
  extract(value: string, group: number): string {
    return this.match(value)?.[group] ?? '';
  }

  /** extract_all() with one group: the group of every match, flat; with several, arrays of groups. */
  extractAll(value: string): Value[] {
    if (!this.test(value)) return [];
    const out: Value[] = [];
    for (const m of this.re.matchAll(value)) {
      if (this.groups <= 1) out.push((m[this.groups] as string | null | undefined) ?? '');
      else out.push(Array.from({ length: this.groups }, (_, i) => (m[i + 1] as string | null | undefined) ?? ''));
    }
    return out;
  }

  /** trim(): every leading and trailing match removed. */
  trim(value: string): string {
    if (this.trimmer) return this.trimmer.trim(value, true);
    return this.trimEnd(this.trimStart(value));
  }

  private trimStart(value: string): string {
    const leading = this.leading as RE2JS;
    const m = leading.test(value) ? leading.exec(value) : null;
    return m && m[0] ? value.slice((m[0] as string).length) : value;
  }

  trimEnd(value: string): string {
    if (this.trimmer) return this.trimmer.trim(value, false);
    const trailing = this.trailing as RE2JS;
    if (!trailing.test(value)) return value;
    const m = trailing.exec(value);
    return m && m[0] ? value.slice(0, value.length - (m[0] as string).length) : value;
  }

  replace(value: string, rewrite: string): string {
    if (!this.test(value)) return value;
    // KQL's rewrite refers to groups as \1; RE2JS's replaceAll as $1.
    return this.re.matcher(value).replaceAll(rewrite.replace(/\$/g, '\\$').replace(/\\(\d)/g, '$$$1'));
  }
}

/**
 * trim() with a pattern that is one character class repeated (`[ \t\r\n]+`, `\.+`): the same
 * result as the regex, by a scan over the characters (the common case, run for most cells).
 */
class CharClassTrimmer {
  private constructor(private readonly chars: Set<number>) {}

  static of(source: string): CharClassTrimmer | undefined {
    const m = /^(?:\[((?:\\[tnr.\\\-/:]|[^\]\\^])+)\]|(\\[.\\/:-]|[^\\[\](){}.*+?^$|]))\+$/.exec(source);
    if (!m) return undefined;
    const body = m[1] ?? (m[2] as string);
    const chars = new Set<number>();
    for (let i = 0; i < body.length; i++) {
      let ch = body[i] as string;
      if (ch === '\\') {
        const next = body[++i] as string;
        ch = next === 't' ? '\t' : next === 'n' ? '\n' : next === 'r' ? '\r' : next;
      } else if (ch === '-' && m[1] !== undefined && i > 0 && i < body.length - 1) return undefined; // a range: not handled here
      chars.add(ch.charCodeAt(0));
    }
    return new CharClassTrimmer(chars);
  }

  trim(value: string, both: boolean): string {
    let start = 0;
    let end = value.length;
    if (both) while (start < end && this.chars.has(value.charCodeAt(start))) start++;
    while (end > start && this.chars.has(value.charCodeAt(end - 1))) end--;
    return start === 0 && end === value.length ? value : value.slice(start, end);
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

/**
 * The text of an -EncodedCommand payload exactly as the KQL formulation computes it:
 * base64_decode_tostring (the bytes read as UTF-8; null, here "", when they are not valid UTF-8
 * or the text is not base64) with the NUL characters removed. For UTF-16LE text of ASCII
 * characters (what the patterns look for) that is the text itself.
 */
export function decodeUtf16leBase64(value: string): string {
  const s = value.trim();
  if (s === '' || s.length % 4 !== 0 || !isBase64(s)) return '';
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(s, 'base64'));
  } catch {
    return '';
  }
  return text.includes('\0') ? text.split('\0').join('') : text;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isBase64(s: string): boolean {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - padding; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}
