import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { sigmaRuleProblems } from '../../../../devtools/sigma/validate-rule.js';
import { aqlQueries } from '../../../../shared/detections/backends/aql.js';
import { sigmaRules } from '../../../../shared/detections/backends/sigma.js';
import { definitionOf } from '../../../../shared/detections/backends/spl.js';
import { lit } from '../../../../shared/detections/definition/build.js';
import { DETECTIONS, getDetection } from '../../../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';
import { TUNED, TUNINGS } from './tunings.js';

interface Rule {
  id: string;
  description: string;
  level: string;
  related?: Array<{ id: string; type: string }>;
  certsoar_weight: number;
  detection: Record<string, unknown>;
}

describe('Sigma backend', () => {
  it.each(TUNINGS)('every rule is valid: schema, condition grammar, modifiers, regex subset (%s tuning)', (_name, tuning) => {
    const rules = sigmaRules(tuning);
    expect(new Set(rules.map((r) => r.detectionId))).toEqual(new Set(DETECTIONS.map((d) => d.meta.id)));
    for (const r of rules) expect(sigmaRuleProblems(r.yaml), r.fileName).toEqual([]);
  });

  it('writes one rule per signal, with the signal weight and the level that weight reaches', () => {
    const rules = sigmaRules(DEFAULT_TUNING);
    const signals = definitionOf(getDetection('T1608.003')).signals.map((s) => s.id);
    expect(signals).toEqual(expect.arrayContaining(['self_signed', 'hostname_mismatch', 'placeholder_cn']));
    expect(rules.filter((r) => r.detectionId === 'T1608.003').map((r) => r.signal)).toEqual(signals);
    const selfSigned = parse(rules.find((r) => r.signal === 'self_signed')?.yaml ?? '') as Rule;
    expect(selfSigned).toMatchObject({ certsoar_weight: 3, level: 'medium' });
    expect(new Set(rules.map((r) => (parse(r.yaml) as Rule).id)).size).toBe(rules.length);
  });

  it('says in every description what Sigma cannot express', () => {
    for (const r of sigmaRules(DEFAULT_TUNING)) expect((parse(r.yaml) as Rule).description, r.fileName).toMatch(/What Sigma cannot express: \S/);
  });

  it('points at the overlapping SigmaHQ rules', () => {
    const related = (id: string) => new Set(sigmaRules(DEFAULT_TUNING).filter((r) => r.detectionId === id).flatMap((r) => ((parse(r.yaml) as Rule).related ?? []).map((x) => x.id)));
    expect(related('T1588.004')).toEqual(new Set(['d223b46b-5621-4037-88fe-fda32eead684']));
    expect(related('T1587.003')).toEqual(new Set(['d2125259-ddea-4c1c-9c22-977eb5b29cf0', 'ff992eac-6449-4c60-8c1d-91c9722a1d48', '42821614-9264-4761-acfc-5772c3286f76']));
  });

  it('follows the tuning document', () => {
    const rules = sigmaRules(TUNED);
    const selfSigned = parse(rules.find((r) => r.fileName === 'T1608.003-self-signed.yml')?.yaml ?? '') as Rule;
    expect(selfSigned.detection['selection_port']).toEqual({ dst_port: [443, 9443] });
    expect(selfSigned.detection['filter_allowed_issuer']).toEqual({ ssl_issuer: ['Corp Issuing CA'] });
    expect(selfSigned).toMatchObject({ certsoar_weight: 4, level: 'medium' });
  });
});

describe('a signal Sigma or AQL has no translation for', () => {
  it('is left out of the score and named in every output of that detection, never silently dropped', () => {
    const d = getDetection('T1588.004');
    const def = definitionOf(d);
    const changed = { ...d, definition: { ...def, signals: [...def.signals, { id: 'expired_certificate', when: lit(true), weight: 'weights.root_store_write', reason: 'x' }] } };
    const rules = sigmaRules(DEFAULT_TUNING, [changed]);
    expect(rules.map((r) => r.signal)).toEqual(def.signals.map((s) => s.id));
    for (const r of rules) {
      expect((parse(r.yaml) as Rule).description).toContain('Sigma has no translation for signal "expired_certificate" of T1588.004; it is not scored here');
      expect(sigmaRuleProblems(r.yaml)).toEqual([]);
    }
    const [query] = aqlQueries(DEFAULT_TUNING, [changed]);
    expect(query?.limitations[0]).toBe('AQL has no translation for signal "expired_certificate" of T1588.004; it is not scored here');
    expect(query?.query).not.toContain('expired_certificate');
  });
});
