/**
 * Sigma's `re` modifier takes a restricted PCRE flavour (Sigma modifiers appendix, v2.x,
 * "Regular Expression"): `.`; anchors `^` `$`; quantifiers `*` `+` `?` `{n,m}`; character
 * classes `[a-z]` `[^a-z]`; grouping `()`; alternation `|`. Every other metacharacter is
 * unsupported. A backslash may only escape a metacharacter (a literal dot, bracket, …):
 * shorthand classes (\d \s \w \b), non-capturing or named groups, lookaround, backreferences
 * and inline flags are all outside the subset.
 */

const METACHARACTERS = new Set(['\\', '.', '^', '$', '*', '+', '?', '{', '}', '[', ']', '(', ')', '|', '/', '-']);

export interface RegexProblem {
  index: number;
  message: string;
}

/** Problems with a Sigma `re` value; empty when it stays within the subset. */
export function sigmaRegexProblems(pattern: string): RegexProblem[] {
  const problems: RegexProblem[] = [];
  let inClass = false;
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) problems.push({ index: i, message: 'trailing backslash' });
      else if (!METACHARACTERS.has(next)) problems.push({ index: i, message: `escape \\${next} is not in Sigma's regex subset (only metacharacters may be escaped)` });
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[' && pattern[i + 1] === ':') problems.push({ index: i, message: 'POSIX character classes are not in the subset' });
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++; // a leading ] is literal
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') problems.push({ index: i, message: '(? groups (non-capturing, named, lookaround, inline flags) are not in the subset' });
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth < 0) problems.push({ index: i, message: 'unbalanced )' });
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) problems.push({ index: i, message: '{ must start a {n}, {n,} or {n,m} quantifier' });
      else i += m[0].length - 1;
    } else if ((c === '*' || c === '+' || c === '?') && (pattern[i + 1] === '+' || pattern[i + 1] === '?')) {
      problems.push({ index: i, message: 'lazy and possessive quantifiers are not in the subset' });
    }
  }
  if (inClass) problems.push({ index: pattern.length, message: 'unterminated character class' });
  if (depth > 0) problems.push({ index: pattern.length, message: 'unbalanced (' });
  return problems;
}
