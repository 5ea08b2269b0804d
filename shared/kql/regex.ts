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

/** flags → source → compiled. Two levels, so a lookup builds no key string. */
const compiled = new Map<string, Map<string, RegExp>>();
let compiledCount = 0;

/**
 * The same source compiled for JavaScript (cached). Twins compile their regexes once per
 * parameters object and keep them; this cache covers the callers that ask per row.
 */
export function jsRegex(source: string, flags = ''): RegExp {
  let bySource = compiled.get(flags);
  if (!bySource) compiled.set(flags, (bySource = new Map()));
  let re = bySource.get(source);
  if (!re) {
    if (compiledCount >= 1000) {
      for (const m of compiled.values()) m.clear();
      compiledCount = 0;
    }
    re = new RegExp(source, `i${flags}`);
    bySource.set(source, re);
    compiledCount++;
  }
  if (re.global || re.sticky) re.lastIndex = 0;
  return re;
}
