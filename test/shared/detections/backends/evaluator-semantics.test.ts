import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExprCompiler, type Env } from '../../../../shared/detections/backends/evaluator-expr.js';
import { KeyValueScanner } from '../../../../shared/detections/backends/key-value-scanner.js';
import { Re2 } from '../../../../shared/detections/backends/kusto-values.js';
import { readCell } from '../../../../shared/detections/backends/evaluator.js';
import * as b from '../../../../shared/detections/definition/build.js';
import { keyValueRegex, regexSource } from '../../../../shared/detections/definition/params.js';
import type { Expr } from '../../../../shared/detections/definition/types.js';

/**
 * Kusto semantics of the in-process evaluator, each case from the examples in Microsoft's KQL
 * reference (learn.microsoft.com/kusto/query/<function>): what Sentinel answers for the same
 * expression is what the evaluator must answer.
 */

const run = (e: Expr, env: Env = {}, params: Record<string, unknown> = {}) => new ExprCompiler(params).compile(e)(env);
const s = (v: string) => b.lit(v);

describe('strings, null and coalesce', () => {
  it('an absent string column reads as "" (strings are never null); an absent number is null', () => {
    expect(readCell(undefined, 'string')).toBe('');
    expect(readCell(null, 'string')).toBe('');
    expect(readCell(undefined, 'int')).toBeNull();
    expect(readCell('443', 'int')).toBe(443);
    expect(run(b.isEmpty(b.col('Missing')))).toBe(true);
  });

  it('coalesce returns the first value that is neither null nor an empty string (coalesce-function)', () => {
    expect(run(b.coalesce(s(''), s('b'), s('c')))).toBe('b');
    expect(run(b.coalesce(b.col('N'), b.lit(42), b.lit(33)), { N: null })).toBe(42);
    // A blank string is not empty: coalesce keeps it. This is the CommonSecurityLog host bug's root cause.
    expect(run(b.coalesce(s('   '), s('sni.example.com')))).toBe('   ');
  });

  it('isempty / isnotempty: "" and null are empty, a blank string is not (isempty-function)', () => {
    expect(run(b.isEmpty(s('')))).toBe(true);
    expect(run(b.isEmpty(b.col('N')), { N: null })).toBe(true);
    expect(run(b.isNotEmpty(s(' ')))).toBe(true);
  });
});

describe('comparison and membership', () => {
  it('== and in are case-sensitive; =~, in~ and !in~ are not (datatypes-string-operators, in-operator)', () => {
    expect(run(b.eq(s('aBc'), s('abc')))).toBe(false);
    expect(run(b.eqi(s('aBc'), s('abc')))).toBe(true);
    expect(run(b.isIn(s('Root'), b.lit(['root', 'ca'])))).toBe(false);
    expect(run(b.inCi(s('Root'), b.lit(['root', 'ca'])))).toBe(true);
    expect(run(b.notInCi(s('DENY'), b.param('actions')), {}, { actions: ['deny'] })).toBe(false);
    expect(run(b.isIn(b.col('Port'), b.lit([443, 8443])), { Port: 8443 })).toBe(true);
  });

  it('has matches whole terms, contains any substring, both case-insensitive (has-operator, contains-operator)', () => {
    expect(run(b.has(s('North America'), 'america'))).toBe(true);
    expect(run(b.has(s('North America'), 'amer'))).toBe(false);
    expect(run(b.contains(s('North America'), 'AMER'))).toBe(true);
    expect(run(b.startsWith(s('Policies\\Microsoft'), 'policies'))).toBe(true);
    expect(run(b.endsWith(s('x.PFX'), '.pfx'))).toBe(true);
  });
});

describe('string functions', () => {
  it('extract gives the group, or "" when the regex does not match (extract-function)', () => {
    expect(run(b.extract(b.reCs('x=([0-9.]+)'), 1, s('hello x=45.6|wo')))).toBe('45.6');
    expect(run(b.extract(b.reCs('x=([0-9.]+)'), 1, s('hello')))).toBe('');
    expect(run(b.extract(b.reCs('(a)|(b)'), 1, s('b')))).toBe(''); // a group that took no part
  });

  it('extract_all with one group is a flat array; with several, one array per match (extract-all-function)', () => {
    expect(run(b.extractAll(b.reCs('(\\d+)'), s('a1 b22')))).toEqual(['1', '22']);
    expect(run(b.extractAll(b.reCs('(\\w)(\\w+)(\\w)'), s('The quick brown fox')))).toEqual([
      ['T', 'h', 'e'],
      ['q', 'uic', 'k'],
      ['b', 'row', 'n'],
      ['f', 'o', 'x'],
    ]);
  });

  it('trim and trim_end take a regex and remove every leading/trailing match (trim-function, trim-end-function)', () => {
    expect(run(b.trim(b.reCs('--'), s('--https://bing.com--')))).toBe('https://bing.com');
    expect(run(b.trimEnd(b.reCs('[^\\w]+'), s('bing---')))).toBe('bing');
    expect(run(b.trim(b.reCs('[ \\t\\r\\n]+'), s(' \t x y \r\n')))).toBe('x y');
    expect(run(b.trimEnd(b.reCs('\\.+'), s('host.example.com..')))).toBe('host.example.com');
  });

  it('indexof is -1 when absent; substring is zero-based and clamps its length (indexof-function, substring-function)', () => {
    expect(run(b.indexOf(s('abcdefg'), s('cde')))).toBe(2);
    expect(run(b.indexOf(s('abcdefg'), s('ac')))).toBe(-1);
    expect(run(b.substring(s('123456'), b.lit(1), b.lit(3)))).toBe('234');
    expect(run(b.substring(s('123456'), b.lit(1)))).toBe('23456');
    expect(run(b.substring(s('123456'), b.lit(2), b.lit(10)))).toBe('3456');
  });

  it('strcat, tolower, iff and case', () => {
    expect(run(b.strcat(s('hello'), s(' '), s('world')))).toBe('hello world');
    expect(run(b.tolower(s('HELLO')))).toBe('hello');
    expect(run(b.iff(b.col('B'), s('y'), s('n')), { B: null })).toBe('n');
    expect(run(b.caseOf([[b.eq(b.col('X'), b.lit(1)), s('one')]], s('other')), { X: 2 })).toBe('other');
  });
});

describe('dynamic arrays', () => {
  it('array_concat, pack_array, set_has_element (array-concat-function, set-has-element-function)', () => {
    expect(run(b.arrayConcat(b.lit([1, 2]), b.lit([3])))).toEqual([1, 2, 3]);
    expect(run(b.packArray(s('a'), b.lit(1)))).toEqual(['a', 1]);
    expect(run(b.setHasElement(b.lit(['this', 'is', 'an', 'example']), s('example')))).toBe(true);
    expect(run(b.setHasElement(b.lit(['this']), s('THIS')))).toBe(false);
  });
});

describe('regexes are RE2', () => {
  it('rejects what RE2 does not support (back-references, look-arounds) when the definition is compiled', () => {
    expect(() => run(b.matches(s('aa'), b.reCs('(a)\\1')))).toThrow();
    expect(() => run(b.matches(s('ab'), b.reCs('a(?=b)')))).toThrow();
  });

  it('matches in linear time where a backtracking engine would never finish', () => {
    // JavaScript's RegExp takes ~2^40 steps on this; RE2 answers at once.
    expect(run(b.matches(s(`${'a'.repeat(40)}!`), b.reCs('^(a+)+$')))).toBe(false);
  });

  it('expands list parameters into escaped alternations, globs and a never-matching group for an empty list', () => {
    const params = { keys: ['a.b', 'c|d'], globs: ['*.example.com'], none: [] };
    expect(regexSource({ pattern: '^{{keys}}$', caseInsensitive: true }, params)).toBe('(?i)^(?:a\\.b|c\\|d)$');
    expect(run(b.matches(s('x.example.com'), b.re('^{{globs:glob}}$')), {}, params)).toBe(true);
    expect(run(b.matches(s(''), b.re('^{{none}}$')), {}, params)).toBe(false);
  });
});

describe('extract_kv', () => {
  it('answers exactly what the extract regex it stands for answers in RE2, over generated extension strings', () => {
    const alphabet = fc.constantFrom(';', '|', ' ', '\t', '=', '\r', 'a', 'A', 'b', 'k', 'K', '\u212a', '-', 'x');
    const text = fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join(''));
    const key = fc.array(fc.constantFrom('a', 'b', 'k', 'A', ' ', '-', 'x', '='), { minLength: 1, maxLength: 3 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 4 }), text, (keys, t) => {
        const re = new Re2(regexSource(keyValueRegex('keys'), { keys }));
        expect(new KeyValueScanner(keys).extract(t)).toBe(re.extract(t, 1));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads vendor pairs: first listed key present wins by position, blanks stay blank', () => {
    const scanner = new KeyValueScanner(['ssl_subject', 'PanOSCommonName']);
    expect(scanner.extract('x=1;PanOSCommonName=a.net;ssl_subject=b.net')).toBe('a.net');
    expect(scanner.extract('x=1| ssl_subject = b.net')).toBe('');
    expect(scanner.extract('x=1|\tSSL_SUBJECT= b.net\r\nmore')).toBe(' b.net');
  });
});

describe('-EncodedCommand payloads', () => {
  const b64 = (text: string) => Buffer.from(text, 'utf16le').toString('base64');
  it('decode UTF-16LE base64 the way the KQL formulation does (base64_decode_tostring, NULs removed)', () => {
    expect(run(b.decodeUtf16leBase64(s(b64('New-SelfSignedCertificate -DnsName a.net'))))).toBe('New-SelfSignedCertificate -DnsName a.net');
    expect(run(b.decodeUtf16leBase64(s('not base64!')))).toBe('');
    expect(run(b.decodeUtf16leBase64(s(Buffer.from([0xff, 0xfe, 0x41, 0x00]).toString('base64'))))).toBe(''); // not UTF-8: null in KQL
    // A non-ASCII character comes out as its two bytes read as UTF-8 (U+2013 → 0x13 0x20), as in KQL.
    expect(run(b.decodeUtf16leBase64(s(b64('a\u2013b'))))).toBe('a\u0013 b');
  });
});
