/**
 * Case-insensitive globs where `*` is any run of characters (newlines included) and every other
 * character is literal. Compiled once into literal segments and matched greedily left to right:
 * with `*` as the only wildcard, the leftmost occurrence of each middle segment is always a safe
 * choice, so no backtracking is ever needed and the time is linear in the value (times the
 * pattern's length). A hand-written matcher rather than re2js because the glob language has one
 * wildcard and this is the whole algorithm; a RegExp built from the glob backtracks (issue 13:
 * `*Fortinet*SSL*Inspection*` over 45 KB blocked the event loop for 54 s).
 */
export type GlobMatcher = (value: string) => boolean;

export function compileGlob(pattern: string): GlobMatcher {
  const parts = pattern.toLowerCase().split('*');
  if (parts.length === 1) {
    const literal = parts[0]!;
    return (value) => value.length === literal.length && value.toLowerCase() === literal;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const minLength = first.length + last.length + middle.reduce((n, p) => n + p.length, 0);
  return (value) => {
    const text = value.toLowerCase();
    if (text.length < minLength) return false;
    if (!text.startsWith(first) || !text.endsWith(last)) return false;
    let at = first.length;
    const end = text.length - last.length;
    for (const part of middle) {
      const found = text.indexOf(part, at);
      if (found === -1 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** One matcher for a list of patterns: true when any pattern matches. */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.map(compileGlob);
  return (value) => matchers.some((m) => m(value));
}
