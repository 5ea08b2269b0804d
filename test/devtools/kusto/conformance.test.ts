import { describe, expect, it } from 'vitest';
import { executeKql } from '../../../devtools/kusto/execute.js';
import { KqlDateTime, KqlNotImplementedError } from '../../../devtools/kusto/values.js';

/**
 * Kusto semantics the evaluator implements, one test per semantic, each taken from the Microsoft
 * documentation page cited above it (learn.microsoft.com/kusto/query/...). The expected values are
 * the pages' documented outputs.
 */

const DOCS = 'https://learn.microsoft.com/kusto/query/';
const print = (expr: string, options: { now?: Date } = {}) => executeKql(`print r = ${expr}`, { tables: {}, ...options }).rows[0]?.r;
const rows = (query: string) => executeKql(query, { tables: {} }).rows;

describe('scalar semantics', () => {
  it(`coalesce returns the first non-null value, and for strings the first non-empty one (${DOCS}coalesce-function)`, () => {
    expect(print('coalesce(tolong("not a number"), tolong("42"), 33)')).toBe(42);
    expect(print('coalesce("", "second")')).toBe('second');
    // A blank string is not empty: coalesce keeps it (the divergence issue 10 names).
    expect(print('coalesce("   ", "second")')).toBe('   ');
    expect(print('coalesce("", "")')).toBe('');
  });

  it(`strings are never null: an absent string column is "" and isnull("") is false (${DOCS}isnull-function)`, () => {
    const r = executeKql('DeviceProcessEvents | project FileName, e = isempty(FileName), n = isnull(FileName), p = isnull(ProcessId)', {
      tables: { DeviceProcessEvents: [{ TimeGenerated: '2026-11-20T00:00:00Z' }] },
    }).rows[0];
    expect(r).toEqual({ FileName: '', e: true, n: false, p: true });
  });

  it(`== and in are case-sensitive; =~, in~, has and contains are not (${DOCS}datatypes-string-operators)`, () => {
    expect(rows('print a = "aBc" == "aBc", b = "abc" != "ABC", c = "abc" =~ "ABC", d = "aBc" !~ "xyz"')[0]).toEqual({ a: true, b: true, c: true, d: true });
    expect(rows('print a = "abc" in ("123", "345", "abc"), b = "abc" in~ ("123", "345", "ABC"), c = "bca" !in ("123", "345", "abc"), d = "bca" !in~ ("123", "345", "ABC"), e = "abc" in ("ABC")')[0]).toEqual({
      a: true,
      b: true,
      c: true,
      d: true,
      e: false,
    });
    expect(rows('print a = "FabriKam" contains "BRik", b = "Fabrikam" !contains "xyz", c = "FabriKam" contains_cs "Kam", d = "Fabrikam" !contains_cs "Kam"')[0]).toEqual({ a: true, b: true, c: true, d: true });
    expect(rows('print a = "Fabrikam" startswith "fab", b = "Fabrikam" endswith "Kam", c = "Fabrikam" !endswith "brik", d = "Fabrikam" startswith_cs "fab"')[0]).toEqual({ a: true, b: true, c: true, d: false });
  });

  it(`has matches whole terms, contains any substring (${DOCS}datatypes-string-operators)`, () => {
    expect(rows('print a = "North America" has "america", b = "KustoExplorerQueryRun" has "Explorer", c = "KustoExplorerQueryRun" contains "Explorer", d = "North America" !has "amer"')[0]).toEqual({
      a: true,
      b: false,
      c: true,
      d: true,
    });
    expect(print('"Kusto: ad67d136-c1db-4f9f-88ef-d94f3b6b0b5a;KustoExplorerQueryRun" has "c1db"')).toBe(true);
    expect(print('"a.contoso.com" has_any ("fabrikam", "CONTOSO")')).toBe(true);
  });

  it(`extract gives the group, and "" when nothing matches (${DOCS}extract-function)`, () => {
    expect(print('extract("x=([0-9.]+)", 1, "hello x=45.6|wo")')).toBe('45.6');
    expect(print('extract("x=([0-9.]+)", 1, "hello y=45.6")')).toBe('');
    expect(print('extract("(a)(b)?", 2, "a")')).toBe('');
  });

  it(`extract_all with one group is a flat array, with several an array per match, null without a match (${DOCS}extract-all-function)`, () => {
    expect(print('extract_all(@"(\\d+)", "a set of numbers: 123, 567 and 789")')).toEqual(['123', '567', '789']);
    expect(print('extract_all(@"(\\w)(\\w+)(\\w)", "82b8be2d-dfa7")')).toEqual([
      ['8', '2b8be2', 'd'],
      ['d', 'fa', '7'],
    ]);
    expect(print('extract_all(@"(\\d+)", "no digits")')).toBeNull();
  });

  it(`trim, trim_start and trim_end take a regex (${DOCS}trim-function)`, () => {
    expect(print('trim("--", @"--https://bing.com--")')).toBe('https://bing.com');
    expect(print('trim(@"[^\\w]+", "- Te st1// $")')).toBe('Te st1');
    expect(print('trim(@"\\s+", " Hello, world! ")')).toBe('Hello, world!');
    expect(print('trim_start(@"[^\\w]+", "- Te st1// $")')).toBe('Te st1// $');
    expect(print('trim_end(@"[^\\w]+", "- Te st1// $")')).toBe('- Te st1');
  });

  it(`indexof is zero-based and -1 when not found (${DOCS}indexof-function)`, () => {
    expect(rows('print idx1 = indexof("abcdefg","cde"), idx2 = indexof("abcdefg","cde",1,4), idx3 = indexof("abcdefg","cde",1,2), idx4 = indexof("abcdefg","cde",3,4), idx5 = indexof("abcdefg","cde",-5), idx7 = indexof("abcdefg","cde",2,-1)')[0]).toEqual({
      idx1: 2,
      idx2: 2,
      idx3: -1,
      idx4: -1,
      idx5: 2,
      idx7: 2,
    });
  });

  it(`substring, strlen, strcat, tolower, toupper (${DOCS}substring-function)`, () => {
    expect(rows('print a = substring("123456", 1, 2), b = substring("123456", 2), c = strlen("hello"), d = strcat("a", 1, "b"), e = tolower("AbC"), f = toupper("aBc")')[0]).toEqual({
      a: '23',
      b: '3456',
      c: 5,
      d: 'a1b',
      e: 'abc',
      f: 'ABC',
    });
  });

  it(`between is inclusive at both ends (${DOCS}between-operator)`, () => {
    expect(rows('print a = 5 between (1 .. 10), b = 10 between (1 .. 10), c = 11 between (1 .. 10), d = 11 !between (1 .. 10)')[0]).toEqual({ a: true, b: true, c: false, d: true });
  });

  it(`iff and case return the branch whose predicate is true (${DOCS}case-function)`, () => {
    expect(rows('print a = iff(1 > 2, "yes", "no"), b = case(5 < 1, "small", 5 < 10, "medium", "large"), c = case(false, 1, 2)')[0]).toEqual({ a: 'no', b: 'medium', c: 2 });
  });

  it(`dynamic arrays: array_concat, pack_array, set_has_element, array_length (${DOCS}set-has-element-function)`, () => {
    expect(print('array_concat(pack_array(1, 2, 4), pack_array(1, 2))')).toEqual([1, 2, 4, 1, 2]);
    expect(print('set_has_element(dynamic(["this", "is", "an", "example"]), "example")')).toBe(true);
    expect(print('set_has_element(dynamic(["this"]), "THIS")')).toBe(false);
    expect(print('array_length(dynamic([1, 2, 3, "four"]))')).toBe(4);
    expect(print('array_length(parse_json("not an array"))')).toBeNull();
    expect(print('array_index_of(dynamic(["this", "is", "an", "example"]), "example")')).toBe(3);
    expect(print('array_slice(dynamic([1, 2, 3, 4, 5]), 1, 3)')).toEqual([2, 3, 4]);
    expect(print('array_slice(dynamic([1, 2, 3, 4, 5]), -3, -2)')).toEqual([3, 4]);
    expect(print('strcat_array(dynamic([1, 2, 3]), "->")')).toBe('1->2->3');
  });

  it(`ago and now read the injected clock; datetime and timespan literals (${DOCS}ago-function)`, () => {
    const now = new Date('2026-11-20T12:00:00Z');
    expect((print('ago(1d)', { now }) as KqlDateTime).toISOString()).toBe('2026-11-19T12:00:00.000Z');
    expect((print('now()', { now }) as KqlDateTime).toISOString()).toBe('2026-11-20T12:00:00.000Z');
    expect(print('datetime(2026-11-20 11:00) + 1h == datetime(2026-11-20T12:00:00Z)')).toBe(true);
    expect(print('ago(30m) > datetime(2026-11-20T11:29:00Z)', { now })).toBe(true);
  });

  it(`conversions: tostring, toint, tolong, todouble, tobool, real (${DOCS}toint-function)`, () => {
    expect(rows('print a = tostring(123), b = toint("5"), c = toint("x"), d = todouble("1.5"), e = tobool("true"), f = real(2) + 1, g = tolong(2.9)')[0]).toEqual({
      a: '123',
      b: 5,
      c: null,
      d: 1.5,
      e: true,
      f: 3,
      g: 2,
    });
  });

  it(`replace_regex rewrites with \\1 groups, replace_string literally (${DOCS}replace-regex-function)`, () => {
    expect(print('replace_regex("Accepted user a from 10.0.0.1", @"user (\\w+)", @"account \\1")')).toBe('Accepted account a from 10.0.0.1');
    expect(print('replace_string("A magic trick can turn a cat into a dog", "cat", "hamster")')).toBe('A magic trick can turn a hamster into a dog');
  });

  it(`split, countof, base64_decode_tostring, unicode code points, parse_json (${DOCS}split-function)`, () => {
    expect(print('split("aa_bb", "_")')).toEqual(['aa', 'bb']);
    expect(print('split("aaa_bbb_ccc", "_", 1)')).toEqual(['bbb']);
    expect(print('countof("The cat sat on the mat", "at")')).toBe(3);
    expect(print('countof("The cat sat on the mat", @"\\b.at\\b", "regex")')).toBe(3);
    expect(print('base64_decode_tostring("S3VzdG8=")')).toBe('Kusto');
    expect(print('base64_decode_toarray("S3VzdG8=")')).toEqual([75, 117, 115, 116, 111]);
    expect(print('base64_encode_tostring("Kusto")')).toBe('S3VzdG8=');
    // UTF-16LE text (PowerShell -EncodedCommand) decodes to UTF-8 with a NUL after each ASCII letter.
    expect(print('base64_decode_tostring("awB1AA==")')).toBe('k\u0000u\u0000');
    expect(print('unicode_codepoints_from_string("Kusto")')).toEqual([75, 117, 115, 116, 111]);
    expect(print('unicode_codepoints_to_string(75, 117, 115, 116, 111)')).toBe('Kusto');
    expect(print('make_string(dynamic([75, 117]), 115)')).toBe('Kus');
    expect(print('parse_json(\'{"a": [1, "b"]}\').a[1]')).toBe('b');
  });

  it(`bin and datetime_diff (${DOCS}bin-function, ${DOCS}datetime-diff-function)`, () => {
    expect(print('bin(4.5, 1)')).toBe(4);
    expect((print('bin(datetime(1970-05-11 13:45:07), 1d)') as KqlDateTime).toISOString()).toBe('1970-05-11T00:00:00.000Z');
    expect(rows("print y = datetime_diff('year', datetime(2017-01-01), datetime(2000-12-31)), d = datetime_diff('day', datetime(2017-10-30 23:00), datetime(2017-09-30 23:59)), h = datetime_diff('hour', datetime(2017-10-31 01:00), datetime(2017-10-30 23:59))")[0]).toEqual({
      y: 17,
      d: 30,
      h: 2,
    });
  });

  it(`format_datetime with the documented specifiers (${DOCS}format-datetime-function)`, () => {
    // The page shows 2:3:4.1234500; this evaluator holds datetimes in milliseconds, not 100 ns ticks.
    expect(print("format_datetime(datetime(2015-12-14 02:03:04.12345), 'y-M-d h:m:s.fffffff')")).toBe('15-12-14 2:3:4.1230000');
    expect(print("format_datetime(datetime(2017-01-29 09:00:05), 'yy-MM-dd [HH:mm:ss]')")).toBe('17-01-29 [09:00:05]');
    expect(print("format_datetime(datetime(2017-01-29 09:00:05), 'yyyy-M-dd [H:mm:ss]')")).toBe('2017-1-29 [9:00:05]');
    expect(() => print("format_datetime(datetime(2017-01-29), 'dddd')")).toThrow(/dddd/);
  });

  it(`regexes are RE2 (${DOCS}re2): lookarounds are refused, as Kusto refuses them`, () => {
    expect(print('"abc" matches regex "b"')).toBe(true);
    expect(() => print('"abc" matches regex "a(?=b)"')).toThrow(/RE2/);
  });

  it(`let with scalars, dynamic lists, tabular lets and lambda functions (${DOCS}let-statement)`, () => {
    const q = `let Ports = dynamic([443, 8443]);
let Clean = (value: string) { iff(trim(@"\\s+", value) in~ ("", "null"), "", trim(@"\\s+", value)) };
let T = datatable(p: long, s: string) [443, " x ", 80, "NULL", 8443, " "];
let Wanted = T | where p in (Ports) | project s;
T | where s in (Wanted) | extend c = Clean(s), n = 1 | project p, c`;
    expect(rows(q)).toEqual([
      { p: 443, c: 'x' },
      { p: 8443, c: '' },
    ]);
  });
});

describe('tabular operators', () => {
  const T = 'datatable(k: string, v: long, t: datetime) ["a", 1, datetime(2026-01-01), "a", 5, datetime(2026-01-02), "b", 2, datetime(2026-01-03), "c", long(null), datetime(2026-01-04)]';

  it(`summarize with by: count, countif, dcount, min, max, make_set, make_list, take_any (${DOCS}summarize-operator)`, () => {
    expect(rows(`${T} | summarize n = count(), big = countif(v > 1), d = dcount(v), lo = min(v), hi = max(v), s = make_set(k), l = make_list(v), any = take_any(k) by k | order by k asc`)).toEqual([
      { k: 'a', n: 2, big: 1, d: 2, lo: 1, hi: 5, s: ['a'], l: [1, 5], any: 'a' },
      { k: 'b', n: 1, big: 1, d: 1, lo: 2, hi: 2, s: ['b'], l: [2], any: 'b' },
      { k: 'c', n: 1, big: 0, d: 0, lo: null, hi: null, s: ['c'], l: [], any: 'c' },
    ]);
    expect(rows(`${T} | summarize count()`)).toEqual([{ count_: 4 }]);
  });

  it(`arg_max and arg_min return the row with the largest/smallest value (${DOCS}arg-max-aggregation-function)`, () => {
    expect(rows(`${T} | summarize arg_max(v, t) by k | where k == "a"`)).toEqual([{ k: 'a', v: 5, t: new KqlDateTime(Date.parse('2026-01-02')) }]);
    expect(rows(`${T} | summarize arg_min(v, *) by k | where k == "a" | project k, v`)).toEqual([{ k: 'a', v: 1 }]);
  });

  const L = 'let L = datatable(k: string, v: long) ["a", 1, "a", 2, "b", 3, "d", 4];';
  const R = 'let R = datatable(k: string, w: string) ["a", "x", "a", "y", "b", "z", "c", "q"];';
  it(`join kinds (${DOCS}join-operator)`, () => {
    expect(rows(`${L}${R} L | join kind=inner R on k | project v, w`)).toEqual([
      { v: 1, w: 'x' },
      { v: 1, w: 'y' },
      { v: 2, w: 'x' },
      { v: 2, w: 'y' },
      { v: 3, w: 'z' },
    ]);
    // innerunique (the default) keeps one left row per key.
    expect(rows(`${L}${R} L | join R on k | project v, w, k1`)).toEqual([
      { v: 1, w: 'x', k1: 'a' },
      { v: 1, w: 'y', k1: 'a' },
      { v: 3, w: 'z', k1: 'b' },
    ]);
    expect(rows(`${L}${R} L | join kind=leftouter R on $left.k == $right.k | where k == "d" | project v, w`)).toEqual([{ v: 4, w: '' }]);
    expect(rows(`${L}${R} L | join kind=leftanti R on k`)).toEqual([{ k: 'd', v: 4 }]);
    expect(rows(`${L}${R} L | join kind=leftsemi R on k | project v`)).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
  });

  it(`lookup keeps every left row and not the right key (${DOCS}lookup-operator)`, () => {
    const r = executeKql(`${L} let R2 = datatable(k: string, w: string) ["a", "x", "b", "z"]; L | lookup R2 on k`, { tables: {} });
    expect(r.columns.map((c) => c.name)).toEqual(['k', 'v', 'w']);
    expect(r.rows.map((x) => x.w)).toEqual(['x', 'x', 'z', '']);
  });

  it(`mv-expand, distinct, take, top, project-away, project-rename, union, sort (${DOCS}mv-expand-operator)`, () => {
    expect(rows('datatable(k: string, d: dynamic) ["a", dynamic([1, 2]), "b", dynamic([])] | mv-expand d')).toEqual([
      { k: 'a', d: 1 },
      { k: 'a', d: 2 },
    ]);
    expect(rows(`${T} | distinct k | order by k asc`)).toEqual([{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
    expect(rows(`${T} | take 2`).length).toBe(2);
    expect(rows(`${T} | top 2 by v | project v`)).toEqual([{ v: 5 }, { v: 2 }]);
    expect(Object.keys(rows(`${T} | project-away t | take 1`)[0] ?? {})).toEqual(['k', 'v']);
    expect(Object.keys(rows(`${T} | project-rename key = k | take 1`)[0] ?? {})).toEqual(['key', 'v', 't']);
    expect(rows(`union (${T} | where k == "b" | project k), (print k = "z") | order by k desc`)).toEqual([{ k: 'z' }, { k: 'b' }]);
    // Descending puts nulls last, ascending first.
    expect(rows(`${T} | sort by v desc | project v`).map((r) => r.v)).toEqual([5, 2, 1, null]);
    expect(rows(`${T} | sort by v asc | project v`).map((r) => r.v)).toEqual([null, 1, 2, 5]);
  });

  it(`ingestion_time() reads the per-row field the test supplies, by default TimeGenerated (${DOCS}ingestion-time-function)`, () => {
    const r = executeKql('DeviceProcessEvents | project i = ingestion_time()', {
      tables: { DeviceProcessEvents: [{ TimeGenerated: '2026-11-20T00:00:00Z', _IngestionTime: '2026-11-20T00:05:00Z' }, { TimeGenerated: '2026-11-20T01:00:00Z' }] },
    }).rows.map((x) => (x.i as KqlDateTime).toISOString());
    expect(r).toEqual(['2026-11-20T00:05:00.000Z', '2026-11-20T01:00:00.000Z']);
  });
});

describe('fails closed', () => {
  it('refuses a function it does not implement, naming it', () => {
    expect(() => print('parse_url("https://x/y")')).toThrow(KqlNotImplementedError);
    expect(() => print('parse_url("https://x/y")')).toThrow(/parse_url/);
  });

  it('refuses an operator it does not implement, naming it', () => {
    expect(() => rows('print a = 1 | render table')).toThrow(/RenderOperator/);
    expect(() => rows('print a = 1 | extend b = 2 | serialize')).toThrow(/SerializeOperator/);
  });

  it('refuses a query the language service rejects, and a row that does not fit its table', () => {
    expect(() => rows('print a = NoSuchColumn')).toThrow(/language service/);
    expect(() => executeKql('DeviceProcessEvents', { tables: { DeviceProcessEvents: [{ NotAColumn: 'x' }] } })).toThrow(/NotAColumn/);
    expect(() => executeKql('DeviceProcessEvents', { tables: { DeviceProcessEvents: [{ ProcessId: 'seven' }] } })).toThrow(/ProcessId/);
  });
});
