import { regexFinds } from './regex.js';
import { KqlNotImplementedError, toKqlString, type KqlValue } from './values.js';

/**
 * The string operators (learn.microsoft.com/kusto/query/datatypes-string-operators): the `_cs`
 * forms are case-sensitive, the others are not; `has` matches whole terms, where a term is a
 * maximal run of alphanumeric characters.
 */

const lower = (s: string) => s.toLowerCase();
const ALNUM = /[\p{L}\p{N}]/u;
const isAlnum = (c: string | undefined) => c !== undefined && ALNUM.test(c);

/** `has`: needle occurs in text starting and ending on term boundaries. */
export function hasTerm(text: string, needle: string, caseSensitive: boolean): boolean {
  if (needle === '') return true;
  const t = caseSensitive ? text : lower(text);
  const n = caseSensitive ? needle : lower(needle);
  const startsAlnum = isAlnum(n[0]);
  const endsAlnum = isAlnum(n[n.length - 1]);
  for (let i = t.indexOf(n); i >= 0; i = t.indexOf(n, i + 1)) {
    const before = t[i - 1];
    const after = t[i + n.length];
    if ((!startsAlnum || !isAlnum(before)) && (!endsAlnum || !isAlnum(after))) return true;
  }
  return false;
}

const POSITIVE: Record<string, (l: string, r: string) => boolean> = {
  Equal: (l, r) => l === r,
  EqualTilde: (l, r) => lower(l) === lower(r),
  Has: (l, r) => hasTerm(l, r, false),
  HasCs: (l, r) => hasTerm(l, r, true),
  Contains: (l, r) => lower(l).includes(lower(r)),
  ContainsCs: (l, r) => l.includes(r),
  StartsWith: (l, r) => lower(l).startsWith(lower(r)),
  StartsWithCs: (l, r) => l.startsWith(r),
  EndsWith: (l, r) => lower(l).endsWith(lower(r)),
  EndsWithCs: (l, r) => l.endsWith(r),
  HasPrefix: (l, r) => hasPrefix(l, r, false),
  HasPrefixCs: (l, r) => hasPrefix(l, r, true),
  HasSuffix: (l, r) => hasSuffix(l, r, false),
  HasSuffixCs: (l, r) => hasSuffix(l, r, true),
  MatchesRegex: (l, r) => regexFinds(r, l),
};

function hasPrefix(text: string, needle: string, cs: boolean): boolean {
  const t = cs ? text : lower(text);
  const n = cs ? needle : lower(needle);
  for (let i = t.indexOf(n); i >= 0; i = t.indexOf(n, i + 1)) if (!isAlnum(t[i - 1])) return true;
  return false;
}

function hasSuffix(text: string, needle: string, cs: boolean): boolean {
  const t = cs ? text : lower(text);
  const n = cs ? needle : lower(needle);
  for (let i = t.indexOf(n); i >= 0; i = t.indexOf(n, i + 1)) if (!isAlnum(t[i + n.length])) return true;
  return false;
}

/** Syntax kind name (e.g. "NotHasExpression") → a predicate over the two evaluated sides. */
export function stringOperator(kind: string): ((l: KqlValue, r: KqlValue) => boolean) | undefined {
  const base = kind.replace(/Expression$/, '');
  if (base === 'BangTilde') return (l, r) => !POSITIVE.EqualTilde!(toKqlString(l), toKqlString(r));
  const negated = base.startsWith('Not') && base !== 'NotEqual';
  const name = negated ? base.slice(3) : base;
  const op = POSITIVE[name];
  if (!op || name === 'Equal') return undefined;
  if (name === 'MatchesRegex' && negated) throw new KqlNotImplementedError('!matches regex');
  return negated ? (l, r) => !op(toKqlString(l), toKqlString(r)) : (l, r) => op(toKqlString(l), toKqlString(r));
}
