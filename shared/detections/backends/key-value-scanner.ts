/**
 * extract_kv in process: the result of RE2's leftmost-first match of
 * (?i)(?:^|[;|])[ \t]*(?:k1|k2|…)=([^;|\r\n]*) with group 1, computed by one linear scan
 * (no regex engine, no backtracking). The order of attempts is the regex's: start positions left
 * to right; at each, `^` before `[;|]`; the most spaces/tabs first, then fewer; keys in list order.
 * A property test checks it against RE2 itself.
 */
export class KeyValueScanner {
  private readonly keys: string[];
  /** Keys without "=": the only key that can match at a position is the text up to the next "=". */
  private readonly keySet: Set<string> | undefined;

  constructor(keys: readonly string[]) {
    this.keys = keys.map(fold);
    this.keySet = this.keys.some((k) => k.includes('=') || k.length > MAX_SEGMENT_KEY) ? undefined : new Set(this.keys);
  }

  private lastText: string | undefined;
  private lastResult = '';

  extract(text: string): string {
    if (this.keys.length === 0) return '';
    if (text === this.lastText) return this.lastResult;
    this.lastResult = this.keySet ? this.fromSegments(segmentsOf(text), this.keySet) : this.scan(text);
    this.lastText = text;
    return this.lastResult;
  }

  /** Keys without "=": the pairs of the text, parsed once for every scanner, looked up in order. */
  private fromSegments(segments: readonly Segment[], keys: Set<string>): string {
    for (const seg of segments) {
      for (const candidate of seg.candidates) if (keys.has(candidate)) return seg.value;
    }
    return '';
  }

  private scan(text: string): string {
    const found = this.tryAt(text, 0);
    if (found !== undefined) return found;
    for (let p = 0; p < text.length; p++) {
      const c = text.charCodeAt(p);
      if (c !== SEMICOLON && c !== PIPE) continue;
      const v = this.tryAt(text, p + 1);
      if (v !== undefined) return v;
    }
    return '';
  }

  /** After the separator (or at the start): spaces/tabs, a key, "=", the value. */
  private tryAt(text: string, q: number): string | undefined {
    let w = q;
    while (w < text.length && (text.charCodeAt(w) === SPACE || text.charCodeAt(w) === TAB)) w++;
    for (let r = w; r >= q; r--) {
      for (const key of this.keys) {
        const eq = r + key.length;
        if (eq < text.length && text.charCodeAt(eq) === EQUALS && foldedEquals(text, r, key)) return valueFrom(text, eq + 1);
      }
    }
    return undefined;
  }
}

/**
 * One place a match can start (the text's start, or after a ";" or "|"), in order: the keys that
 * would match there (the text up to the next "=", with the most leading spaces/tabs skipped first,
 * then fewer), folded, and the value after that "=".
 */
interface Segment {
  candidates: string[];
  value: string;
}

let lastSegmentsText: string | undefined;
let lastSegments: Segment[] = [];

/** The segments of a text; the last text's are kept, since every scanner of a row reads the same cell. */
function segmentsOf(text: string): Segment[] {
  if (text === lastSegmentsText) return lastSegments;
  const out: Segment[] = [];
  // Linear in the text: the next "=" only moves forward, a value is read once per "=", and a
  // candidate longer than any key a scanner uses here is not built.
  let eq = -2;
  let valueAt = -1;
  let value = '';
  const add = (q: number) => {
    let w = q;
    while (w < text.length && (text.charCodeAt(w) === SPACE || text.charCodeAt(w) === TAB)) w++;
    if (eq !== -1 && eq < w) eq = text.indexOf('=', w);
    if (eq < 0) return;
    const candidates: string[] = [];
    for (let r = w; r >= q; r--) if (eq - r <= MAX_SEGMENT_KEY) candidates.push(fold(text.slice(r, eq)));
    if (candidates.length === 0) return;
    if (valueAt !== eq) {
      valueAt = eq;
      value = valueFrom(text, eq + 1);
    }
    out.push({ candidates, value });
  };
  add(0);
  for (let p = 0; p < text.length; p++) {
    const c = text.charCodeAt(p);
    if (c === SEMICOLON || c === PIPE) add(p + 1);
  }
  lastSegmentsText = text;
  lastSegments = out;
  return out;
}

/** Keys longer than this go through the plain scan (no vendor key is near it). */
const MAX_SEGMENT_KEY = 128;

const SEMICOLON = 59;
const PIPE = 124;
const SPACE = 32;
const TAB = 9;
const EQUALS = 61;

function valueFrom(text: string, start: number): string {
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === SEMICOLON || c === PIPE || c === 13 || c === 10) break;
    end++;
  }
  return text.slice(start, end);
}

/** Simple case folding as RE2 applies it to these keys: lower case, with K (Kelvin) and ſ (long s). */
function foldChar(ch: string): string {
  if (ch === '\u212a') return 'k';
  if (ch === '\u017f') return 's';
  const lower = ch.toLowerCase();
  return lower.length === ch.length ? lower : ch;
}

function fold(s: string): string {
  const lower = s.toLowerCase();
  // toLowerCase already folds ASCII; only the two characters RE2 folds differently need a pass.
  if (lower.length === s.length && !hasSpecialFold(s)) return lower;
  let out = '';
  for (const ch of s) out += foldChar(ch);
  return out;
}

function foldedEquals(text: string, at: number, foldedKey: string): boolean {
  for (let i = 0; i < foldedKey.length; i++) {
    const c = text.charCodeAt(at + i);
    const k = foldedKey.charCodeAt(i);
    if (c === k) continue;
    if (c >= 65 && c <= 90 && c + 32 === k) continue;
    if (c < 128) return false;
    if (foldChar(text[at + i] as string) !== foldedKey[i]) return false;
  }
  return true;
}

function hasSpecialFold(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x212a || c === 0x017f || c === 0x0130) return true;
  }
  return false;
}
