/**
 * SPL text helpers. Eval string literals are double-quoted with `\\` and `\"` escaped
 * (Splunk Search Reference, "eval": quotation marks and backslashes in string literals), so a
 * regex written here is escaped once for the literal. Regexes run as PCRE in Splunk.
 */

export function splString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A comma-separated list of string literals (for `in(...)` and `IN (...)`). */
export function splStringList(values: readonly string[]): string {
  return values.map(splString).join(', ');
}

/** A field in an eval expression: single-quoted when its name is not a plain identifier. */
export function splField(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name}'`;
}

/** The regex with PCRE's case-insensitive flag. */
export function splRegexI(source: string): string {
  return `(?i)${source}`;
}

const trimmed = (expr: string) => `replace(${expr}, ${splString('^\\s+|\\s+$')}, "")`;
const isBlankMarker = (expr: string) => `in(lower(${trimmed(expr)}), "", "null", "n/a", "-", "none")`;

/**
 * The value as the KQL CleanValue sees it: "" for null, spaces/tabs/line breaks trimmed, and the
 * blank markers (null, n/a, -, none) become "".
 */
export function splClean(expr: string): string {
  const value = `coalesce(${expr}, "")`;
  return `if(${isBlankMarker(value)}, "", ${trimmed(value)})`;
}

/** The cleaned value, or null when it is blank (so SPL's coalesce skips it). */
function nonBlankOrNull(expr: string): string {
  return `if(isnull(${expr}) OR ${isBlankMarker(expr)}, null(), ${trimmed(expr)})`;
}

/**
 * The first candidate that is non-empty once cleaned, else "": Kusto's coalesce over strings
 * (which skips empty strings) rather than SPL's coalesce alone (which keeps a blank value).
 */
export function splFirstNonEmpty(candidates: readonly string[]): string {
  return `coalesce(${[...candidates.map(nonBlankOrNull), '""'].join(', ')})`;
}

/** The capture group `group` of the first match of `regex` in `expr`; "" when it does not match (KQL extract). */
export function splExtract(regex: string, group: number, expr: string): string {
  return `if(match(${expr}, ${splString(regex)}), replace(${expr}, ${splString(`(?s)^.*?(?:${regex}).*$`)}, ${splString(`\\${group}`)}), "")`;
}
