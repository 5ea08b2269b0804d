import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { aqlQueries } from '../../../../shared/detections/backends/aql.js';
import { sigmaRules } from '../../../../shared/detections/backends/sigma.js';
import { splSearches } from '../../../../shared/detections/backends/spl.js';
import { detectionParams, getDetection } from '../../../../shared/detections/index.js';
import type { Tuning } from '../../../../shared/scoring/tuning.js';
import { TUNINGS } from './tunings.js';

/**
 * The placeholder-CN signal is a regex in every backend. Each backend's regex, taken from the
 * text it generates, must decide like the in-process evaluator over the same common names.
 * (SPL is PCRE, AQL Java, Sigma its PCRE subset; the generated patterns use only syntax those
 * and JavaScript agree on, so JavaScript runs them here.)
 */

const detection = getDetection('T1608.003');

const paramsCache = new Map<Tuning, Record<string, unknown>>();
function twinSaysPlaceholder(cn: string, tuning: Tuning): boolean {
  // Threshold lowered so the signal shows whether or not its weight alone surfaces the row.
  const params = paramsCache.get(tuning) ?? { ...detectionParams(detection, tuning), minScore: -1 };
  paramsCache.set(tuning, params);
  const row = { DestinationPort: 443, AdditionalExtensions: `PanOSCommonName=CN=${cn};PanOSIssuerCommonName=Unrelated Issuer` };
  return detection.evaluate(row, params)?.signals.some((s) => s.id === 'placeholder_cn') ?? false;
}

function splRegex(tuning: Tuning): RegExp {
  const search = splSearches(tuning)[0]?.search ?? '';
  const m = /\| eval HasPlaceholderCn=if\(\(len\(SubjectCN\)>0 AND match\(SubjectCN, "((?:\\.|[^"\\])*)"\)/.exec(search);
  if (!m) throw new Error('no placeholder match() in the SPL');
  return new RegExp((m[1] as string).replace(/\\(.)/g, '$1').replace(/^\(\?i\)/, ''), 'i');
}

function aqlRegex(tuning: Tuning): RegExp {
  const query = aqlQueries(tuning)[0]?.query ?? '';
  const m = /AND "TLS Subject CN" IMATCHES '((?:''|[^'])*)' THEN \d+ ELSE 0 END AS 'signal_placeholder_cn'/.exec(query);
  if (!m) throw new Error('no placeholder IMATCHES in the AQL');
  return new RegExp((m[1] as string).replace(/''/g, "'"), 'i');
}

function sigmaRegexes(tuning: Tuning): RegExp[] {
  const rule = sigmaRules(tuning).find((r) => r.fileName === 'T1608.003-placeholder-cn.yml');
  const doc = parse(rule?.yaml ?? '') as { detection: { selection_placeholder: { 'ssl_subject_cn|re|i': string[] } } };
  return doc.detection.selection_placeholder['ssl_subject_cn|re|i'].map((re) => new RegExp(re, 'i'));
}

const piece = fc.constantFrom('localhost', 'Localhost', 'localdomain', 'example', 'com', 'invalid', 'staging', 'test', 'TEST', 'tests', 'temp', 'default', 'changeme', 'placeholder', 'lab', 'mail', 'www', 'api', 'x1', '');
const separator = fc.constantFrom('.', '-', '_', ' ', '*', '*.', '');
const commonName = fc
  .array(fc.tuple(piece, separator), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.map(([p, s]) => p + s).join('').trim())
  .filter((cn) => cn.length > 0 && !/^(?:null|n\/a|-|none)$/i.test(cn));

describe('placeholder CN regexes agree with the evaluator in every backend', () => {
  it.each(TUNINGS)('SPL, AQL and Sigma decide like the twin (%s tuning)', (_name, tuning) => {
    const spl = splRegex(tuning);
    const aql = aqlRegex(tuning);
    const sigma = sigmaRegexes(tuning);
    let positives = 0;
    fc.assert(
      fc.property(commonName, (cn) => {
        const expected = twinSaysPlaceholder(cn, tuning);
        if (expected) positives++;
        expect(spl.test(cn), `SPL on ${JSON.stringify(cn)}`).toBe(expected);
        expect(aql.test(cn), `AQL on ${JSON.stringify(cn)}`).toBe(expected);
        expect(sigma.some((re) => re.test(cn)), `Sigma on ${JSON.stringify(cn)}`).toBe(expected);
      }),
      { numRuns: 3000, seed: 1608003 },
    );
    // The corpus must exercise both outcomes, or the agreement says nothing.
    expect(positives).toBeGreaterThan(100);
    expect(positives).toBeLessThan(2900);
  });
});
