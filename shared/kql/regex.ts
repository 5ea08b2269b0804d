/**
 * Regular expressions shared by a KQL query and its TypeScript twin. The sources use only the
 * syntax RE2 (Kusto) and JavaScript agree on: literals, classes, groups, alternation, anchors
 * and greedy quantifiers. Case-insensitivity is a flag, added as `(?i)` for KQL and `i` for JS.
 */

/** Escapes a literal string for use inside a regex. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A case-insensitive glob (`*` = any run of characters) as a regex fragment, unanchored. */
export function globToRegex(glob: string): string {
  return glob.split('*').map(escapeRegex).join('.*');
}

/** The source with the case-insensitive flag for KQL (RE2). */
export function kqlRegex(source: string): string {
  return `(?i)${source}`;
}

const compiled = new Map<string, RegExp>();

/** The same source compiled for JavaScript (cached: twins run it once per row). */
export function jsRegex(source: string, flags = ''): RegExp {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (!re) {
    if (compiled.size >= 1000) compiled.clear();
    re = new RegExp(source, `i${flags}`);
    compiled.set(key, re);
  }
  if (re.global || re.sticky) re.lastIndex = 0;
  return re;
}
