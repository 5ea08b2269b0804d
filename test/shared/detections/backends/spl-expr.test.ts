import { describe, expect, it } from 'vitest';
import { grammars } from '../../../../devtools/grammars/parsers.js';
import { type SplContext, splCondition, splValue } from '../../../../shared/detections/backends/spl-expr.js';
import * as b from '../../../../shared/detections/definition/build.js';
import type { Expr } from '../../../../shared/detections/definition/types.js';

/** Every expression node compiles to SPL the grammar accepts, with Kusto's semantics spelled out where SPL differs. */
function context(): SplContext {
  return {
    params: { ports: [443, 8443], names: ['Alpha', 'beta'], empty: [], word: 'Test', weight: 2 },
    columns: new Map([
      ['S', 'value'],
      ['T', 'value'],
      ['Flag', 'bool'],
      ['Names', 'array'],
    ]),
    limitations: new Set(),
  };
}

const S = b.col('S');
const T = b.col('T');
const VALUES: Array<[string, Expr, string | RegExp]> = [
  ['coalesce skips empty strings', b.coalesce(S, T), 'coalesce(if(len(S)>0, S, null()), if(len(T)>0, T, null()), "")'],
  ['extract gives "" on no match', b.extract(b.re('a(b+)'), 1, S), 'if(match(S, "(?i)a(b+)"), replace(S, "(?s)^.*?(?:(?i)a(b+)).*$", "\\\\1"), "")'],
  ['extract_kv uses the key list regex', b.extractKv('names', S), /^if\(match\(S, "\(\?i\)\(\?:\^\|\[;\|\]\)\[ \\\\t\]\*\(\?:Alpha\|beta\)=/],
  ['extract_all with one group is flat', b.extractAll(b.reCs('x(\\d)'), S), /^if\(match\(S, "x\(\\\\d\)"\), split\(replace\(replace\(S, /],
  ['trim takes a regex', b.trim(b.reCs(' +'), S), 'replace(S, "^(?: +)+|(?: +)+$", "")'],
  ['trim_end', b.trimEnd(b.reCs('\\.+'), S), 'replace(S, "(?:\\\\.+)+$", "")'],
  ['replace_regex', b.replaceRegex(S, b.reCs('[:\\s]'), ''), 'replace(S, "[:\\\\s]", "")'],
  ['substring is 0-based', b.substring(S, b.lit(2), b.lit(3)), 'substr(S, (2)+1, 3)'],
  ['indexof gives -1 when absent', b.indexOf(S, b.lit('.')), 'if(len(mvindex(split(S, "."), 0))==len(S), -1, len(mvindex(split(S, "."), 0)))'],
  ['strcat', b.strcat(b.lit('*'), S), '(tostring("*") . tostring(S))'],
  ['array_length of nothing is 0', b.arrayLength(b.col('Names')), 'coalesce(mvcount(Names), 0)'],
  ['an empty array is null', b.emptyArray, 'null()'],
  ['pack_array', b.packArray(S, T), 'mvappend(S, T)'],
  ['case', b.caseOf([[b.eq(S, b.lit('a')), b.lit(1)]], b.lit(0)), 'case(S=="a", 1, 1==1, 0)'],
  ['a boolean used as a value is 1/0', b.eqi(S, T), 'if(lower(S)==lower(T), 1, 0)'],
  ['arith', b.add(b.lit(1), b.param('weight')), '(1 + 2)'],
];
const CONDITIONS: Array<[string, Expr, string]> = [
  ['== is case-sensitive', b.eq(S, T), 'S==T'],
  ['=~ is not', b.eqi(S, T), 'lower(S)==lower(T)'],
  ['in is case-sensitive', b.isIn(S, b.param('names')), '(S IN ("Alpha", "beta"))'],
  ['in~ is not', b.inCi(S, b.param('names')), '(lower(S) IN ("alpha", "beta"))'],
  ['!in~ of an empty list is true', b.notInCi(S, b.param('empty')), '1==1'],
  ['numbers in a list', b.isIn(S, b.param('ports')), '(S IN (443, 8443))'],
  ['contains is case-insensitive', b.contains(S, 'a.b'), 'match(S, "(?i)a\\\\.b")'],
  ['startswith', b.startsWith(S, b.param('word')), 'match(S, "(?i)^Test")'],
  ['has is a whole term', b.has(S, 'cmd'), 'match(S, "(?i)(^|[^A-Za-z0-9_])cmd($|[^A-Za-z0-9_])")'],
  ['contains with a computed term', b.contains(S, T), 'like(lower(S), "%" . lower(T) . "%")'],
  ['isempty', b.isEmpty(S), 'len(S)==0'],
  ['isempty of an array', b.isEmpty(b.col('Names')), 'coalesce(mvcount(Names), 0)==0'],
  ['a stored boolean', b.col('Flag'), 'Flag==1'],
  ['set_has_element', b.setHasElement(b.col('Names'), S), 'isnotnull(mvfind(Names, "^\\\\Q" . S . "\\\\E$"))'],
  ['and/or/not', b.and(b.col('Flag'), b.or(b.isEmpty(S), b.not(b.isEmpty(T)))), '(Flag==1 AND (len(S)==0 OR NOT (len(T)==0)))'],
];

describe('SPL expressions', () => {
  it.each(VALUES)('%s', (_why, expr, expected) => {
    const text = splValue(expr, context());
    if (typeof expected === 'string') expect(text).toBe(expected);
    else expect(text).toMatch(expected);
    expect(grammars().spl.parse(`| eval x=${text}`), text).toMatchObject({ ok: true });
  });

  it.each(CONDITIONS)('%s', (_why, expr, expected) => {
    const text = splCondition(expr, context());
    expect(text).toBe(expected);
    expect(grammars().spl.parse(`index=x | where ${text}`), text).toMatchObject({ ok: true });
  });

  it('reports base64 decoding, which SPL eval cannot do, and refuses output-only nodes', () => {
    const ctx = context();
    expect(splValue(b.decodeUtf16leBase64(S), ctx)).toBe('""');
    expect([...ctx.limitations].join()).toMatch(/no base64 decoding/);
    expect(() => splValue(b.isoTime(S), ctx)).toThrow(/output-only/);
  });
});
