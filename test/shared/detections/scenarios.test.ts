import { describe, expect, it } from 'vitest';
import { getDetection, hitFromRow } from '../../../shared/detections/index.js';
import { score } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { T1587_003_SCENARIOS } from './definitions/t1587-003.scenarios.js';
import { T1588_004_SCENARIOS } from './definitions/t1588-004.scenarios.js';
import { T1608_003_SCENARIOS, type Scenario } from './definitions/t1608-003.scenarios.js';

/**
 * The organisation facts the default suppressions key on (issue 11: never on names alone):
 * its address ranges, its explicit TLS-inspection proxy, its CI runners, its red team's accounts.
 */
const ORGANISATION_TUNING = parseTuning({
  organisation: {
    addressRanges: ['10.0.0.0/8'],
    tlsInspectionAppliances: ['10.1.1.5'],
    buildHosts: ['ci-*'],
    redTeamAccounts: ['*\\redteam-*'],
  },
});

/** Every adversary test and false-positive scenario from the reference pages, through twin and scorer. */
const SUITES: Array<[string, Scenario[]]> = [
  ['T1608.003', T1608_003_SCENARIOS],
  ['T1588.004', T1588_004_SCENARIOS],
  ['T1587.003', T1587_003_SCENARIOS],
];

for (const [id, scenarios] of SUITES) {
  describe(`${id} scenarios`, () => {
    const detection = getDetection(id);
    it('covers both adversary behaviour and false positives', () => {
      expect(scenarios.filter((s) => s.expect && !s.expect.suppressedBy).length).toBeGreaterThanOrEqual(4);
      expect(scenarios.filter((s) => s.expect?.suppressedBy).length).toBeGreaterThanOrEqual(4);
    });

    for (const s of scenarios) {
      it(`${s.expect ? (s.expect.suppressedBy ? 'suppressed' : 'hit') : 'no hit'}: ${s.name}`, () => {
        const hit = hitFromRow(detection, s.row, DEFAULT_TUNING);
        if (!s.expect) {
          expect(hit).toBeNull();
          return;
        }
        expect(hit).not.toBeNull();
        if (!hit) return;
        expect(hit.signals.map((x) => x.id).sort()).toEqual([...s.expect.signals].sort());
        for (const signal of hit.signals) expect(signal.reason.length).toBeGreaterThan(10);
        const result = score(hit, undefined, ORGANISATION_TUNING);
        expect(result.score).toBe(s.expect.score);
        expect(result.level).toBe(s.expect.level);
        expect(result.suppressedBy?.rule).toBe(s.expect.suppressedBy);
        expect(hit.indicators['CertRiskScore']).toBe(s.expect.score);
        if (s.expect.domains) expect(hit.entities.domains).toEqual(s.expect.domains);
        // Same event, same key; the twin reads only the columns the query projects.
        expect(hitFromRow(detection, { ...s.row }, DEFAULT_TUNING)?.key).toBe(hit.key);
        const projectedOnly = Object.fromEntries(Object.entries(s.row).filter(([k]) => detection.projectedColumns.includes(k)));
        expect(hitFromRow(detection, projectedOnly, DEFAULT_TUNING)).toEqual({ ...hit, row: projectedOnly });
      });
    }

    it('gives different events different keys', () => {
      const keys = scenarios.map((s) => hitFromRow(detection, s.row, DEFAULT_TUNING)?.key).filter(Boolean);
      expect(new Set(keys).size).toBe(keys.length);
    });
  });
}
