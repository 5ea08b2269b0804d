import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { DEFAULT_TUNING, loadTuning, parseTuning } from '../../../shared/scoring/tuning.js';

describe('tuning document', () => {
  it('ships defaults', () => {
    expect(DEFAULT_TUNING.levels).toEqual({ low: 2, medium: 3, high: 5 });
    expect(DEFAULT_TUNING.suppressions.map((s) => s.id)).toContain('tls-inspection-appliance');
    expect(DEFAULT_TUNING.enrichment.weights.own_domain_outside_ranges).toBeGreaterThan(0);
  });

  it('a file overrides defaults and inline JSON overrides the file, objects merged deeply', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
    const file = join(dir, 'tuning.json');
    writeFileSync(file, JSON.stringify({ levels: { high: 6 }, organisation: { domains: ['contoso.com'] } }));
    const tuning = loadTuning({ file, json: JSON.stringify({ levels: { medium: 4 } }) });
    expect(tuning.levels).toEqual({ low: 2, medium: 4, high: 6 });
    expect(tuning.organisation.domains).toEqual(['contoso.com']);
    expect(tuning.enrichment.weights.recent_certificate).toBe(DEFAULT_TUNING.enrichment.weights.recent_certificate);
  });

  it('a user list replaces the default list (so it can be emptied)', () => {
    expect(parseTuning({ suppressions: [] }).suppressions).toEqual([]);
  });

  it('names the failing fields', () => {
    try {
      parseTuning({ levels: { low: 'two' }, enrichment: { weights: { new_domain: 'x' } } });
      expect.unreachable('parseTuning accepted a bad document');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const paths = (err as ValidationError).problems.map((p) => p.path);
      expect(paths).toContain('tuning.levels.low');
      expect(paths).toContain('tuning.enrichment.weights.new_domain');
    }
  });

  it('reports JSON that does not parse, naming the source', () => {
    expect(() => loadTuning({ json: '{nope' })).toThrow(/TUNING_JSON: not JSON/);
  });
});
