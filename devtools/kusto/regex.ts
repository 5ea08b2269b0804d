import { RE2JS } from 're2js';
import { KqlError } from './values.js';

/**
 * Kusto's regular expressions are RE2 (learn.microsoft.com/kusto/query/re2); JavaScript's RegExp
 * is not (lookarounds, backreferences, different \s and flag syntax), so every regex goes through re2js.
 */

const cache = new Map<string, RE2JS>();

export function re2(pattern: string): RE2JS {
  let compiled = cache.get(pattern);
  if (!compiled) {
    try {
      compiled = RE2JS.compile(pattern);
    } catch (err) {
      throw new KqlError(`invalid RE2 regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
    if (cache.size > 5000) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** `matches regex`: the pattern found anywhere in the text. */
export function regexFinds(pattern: string, text: string): boolean {
  return re2(pattern).matcher(text).find();
}

/** Every match, as its capture groups (index 0 the whole match); unmatched groups are null. */
export function regexMatches(pattern: string, text: string, limit = Infinity): Array<Array<string | null>> {
  const m = re2(pattern).matcher(text);
  const out: Array<Array<string | null>> = [];
  while (out.length < limit && m.find()) {
    const groups: Array<string | null> = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g));
    out.push(groups);
  }
  return out;
}

export function groupCount(pattern: string): number {
  return re2(pattern).groupCount();
}

/** The span of the first match, or null. */
export function firstMatchSpan(pattern: string, text: string): { start: number; end: number } | null {
  const m = re2(pattern).matcher(text);
  return m.find() ? { start: m.start(), end: m.end() } : null;
}
