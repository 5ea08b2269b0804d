/**
 * SPL text helpers. Eval string literals are double-quoted with `\\` and `\"` escaped
 * (Splunk Search Reference, "eval": quotation marks and backslashes in string literals), so a
 * regex written here is escaped once for the literal. Regexes run as PCRE in Splunk.
 */

export function splString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The capture group `group` of the first match of `regex` in `expr`; "" when it does not match
 * (KQL extract). SPL eval has no extract: replace() keeps the group of a pattern that matches the
 * whole value, its lazy prefix finding the first match.
 */
export function splExtract(regex: string, group: number, expr: string): string {
  return `if(match(${expr}, ${splString(regex)}), replace(${expr}, ${splString(`(?s)^.*?(?:${regex}).*$`)}, ${splString(`\\${group}`)}), "")`;
}
