/**
 * KQL literals built from values that come from parameters (tuning documents, CLI input), so a
 * value can never break out of its literal. Verbatim literals (@'…', @"…") are preferred because
 * KQL does not interpret backslashes in them, which keeps regexes and Windows paths readable.
 */

/** A KQL string literal whose value is exactly `value`. */
export function kqlString(value: string): string {
  if ([...value].some(isControl)) return escapedString(value);
  if (!value.includes("'")) return `@'${value}'`;
  if (!value.includes('"')) return `@"${value}"`;
  return escapedString(value);
}

/** Verbatim literals cannot span lines and should not carry invisible characters. */
function isControl(ch: string): boolean {
  const code = ch.codePointAt(0) as number;
  return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
}

/** A regular (non-verbatim) double-quoted literal with backslash escapes. */
function escapedString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (isControl(ch)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** dynamic([...]) of strings. */
export function kqlStringList(values: readonly string[]): string {
  return `dynamic([${values.map(kqlString).join(', ')}])`;
}

/** dynamic([...]) of integers. */
export function kqlIntList(values: readonly number[]): string {
  return `dynamic([${values.map(kqlInt).join(', ')}])`;
}

export function kqlInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return String(value);
}

/** A real literal (weights may be fractional). */
export function kqlReal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return Number.isInteger(value) ? `real(${value})` : String(value);
}

export function kqlDatetime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return `datetime(${date.toISOString()})`;
}

/** A timespan literal for a number of milliseconds, e.g. 86400000 → 1d. */
export function kqlTimespan(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration: ${ms}`);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
