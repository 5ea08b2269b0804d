import { describe, expect, it } from 'vitest';
import { kqlLiteralValue } from '../../../shared/detections/kql-validator.js';
import { kqlDatetime, kqlInt, kqlIntList, kqlReal, kqlString, kqlStringList, kqlTimespan } from '../../../shared/kql/literals.js';
import { Re2 } from '../../../shared/detections/backends/kusto-values.js';
import { escapeRegex, globToRegex } from '../../../shared/kql/regex.js';

/** Compiled as Kusto compiles it: RE2, case-insensitive. */
const re2 = (source: string) => new Re2(`(?i)${source}`);

const NASTY = [
  'plain',
  '',
  "O'Brien",
  'say "hi"',
  `both ' and "`,
  'C:\\Windows\\System32\\certutil.exe',
  `trailing backslash \\`,
  `quote then backslash '\\" end`,
  'line\nbreak',
  'tab\there\r\nwindows',
  '\u0001control\u007f',
  'unicode é 雪 🙂',
  "'); drop table x; //",
  '"; print "injected',
];

describe('kqlString', () => {
  it('denotes exactly the value for Kusto, whatever the quotes, backslashes and control characters', () => {
    for (const value of NASTY) expect(kqlLiteralValue(kqlString(value)), JSON.stringify(value)).toBe(value);
  });

  it('prefers verbatim literals so regexes and paths stay readable', () => {
    expect(kqlString('C:\\Temp\\')).toBe("@'C:\\Temp\\'");
    expect(kqlString("it's")).toBe(`@"it's"`);
    expect(kqlString(`a'b"c`)).toBe(`"a'b\\"c"`);
  });
});

describe('other literals', () => {
  it('renders lists as dynamic arrays of safe literals', () => {
    expect(kqlStringList(['a', "b'c"])).toBe(`dynamic([@'a', @"b'c"])`);
    expect(kqlStringList([])).toBe('dynamic([])');
    expect(kqlIntList([443, 8443])).toBe('dynamic([443, 8443])');
    expect(() => kqlIntList([1.5])).toThrow(RangeError);
    expect(() => kqlInt(Number.NaN)).toThrow(RangeError);
  });

  it('renders reals, datetimes and timespans', () => {
    expect(kqlReal(3)).toBe('real(3)');
    expect(kqlReal(1.5)).toBe('1.5');
    expect(() => kqlReal(Infinity)).toThrow(RangeError);
    expect(kqlDatetime(new Date('2026-01-02T03:04:05.678Z'))).toBe('datetime(2026-01-02T03:04:05.678Z)');
    expect(() => kqlDatetime(new Date('nope'))).toThrow(RangeError);
    expect(kqlTimespan(86_400_000)).toBe('1d');
    expect(kqlTimespan(90_000)).toBe('90s');
    expect(kqlTimespan(1500)).toBe('1500ms');
  });
});

describe('regex helpers (checked with RE2)', () => {
  it('escapes every metacharacter', () => {
    const special = 'a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o';
    expect(re2(`^${escapeRegex(special)}$`).test(special)).toBe(true);
    expect(re2(`^${escapeRegex('a.b')}$`).test('axb')).toBe(false);
  });

  it('turns globs into case-insensitive patterns', () => {
    const re = re2(`^${globToRegex('*.Example.com')}$`);
    expect(re.test('a.example.COM')).toBe(true);
    expect(re.test('example.com')).toBe(false);
  });
});
