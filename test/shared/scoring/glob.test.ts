import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../shared/scoring/glob.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';

/** The RegExp the earlier matcher built: the reference for what a glob means (not for speed). */
function regexGlob(pattern: string, value: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'is').test(value);
}

describe('compileGlob', () => {
  it.each([
    ['*Fortinet*SSL*Inspection*', 'CN=Fortinet Inc SSL Deep Inspection CA', true],
    ['*Fortinet*SSL*Inspection*', 'CN=FortinetSSL', false],
    ['dev-*', 'DEV-web01', true],
    ['*-dev.*', 'web-dev.contoso.com', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*', '', true],
    ['msiexec.exe', 'MSIEXEC.EXE', true],
    ['msiexec.exe', 'msiexec.exe.bak', false],
    ['C:\\Program Files\\*\\agent.exe', 'c:\\program files\\Datadog\\agent.exe', true],
    ['a.c', 'abc', false],
  ])('%s ~ %s → %s', (pattern, value, expected) => {
    expect(compileGlob(pattern)(value)).toBe(expected);
  });

  it('agrees with the regular-expression meaning on random patterns and values', () => {
    const alphabet = fc.constantFrom('a', 'b', 'A', '*', '.', '\\', '\n');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', 'B', '.', '\\', '\n'), maxLength: 12 }), (pattern, value) => {
        expect(compileGlob(pattern)(value)).toBe(regexGlob(pattern, value));
      }),
      { seed: 1413, numRuns: 3000 },
    );
  });

  it('every default suppression pattern finishes over 1 MB of adversarial text (no backtracking)', () => {
    // Counted in steps, not timed: the matcher does a bounded number of indexOf scans per pattern.
    const hostile = 'FortinetSSL'.repeat(100_000);
    const patterns = DEFAULT_TUNING.suppressions.flatMap((r) => Object.values(r.when).flat()).filter((p): p is string => typeof p === 'string');
    expect(patterns.length).toBeGreaterThan(50);
    for (const p of patterns) compileGlob(p)(hostile);
    expect(compileGlob('*Fortinet*SSL*Inspection*')(hostile)).toBe(false);
  });
});
