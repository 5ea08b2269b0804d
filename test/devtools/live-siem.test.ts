import { describe, expect, it } from 'vitest';
import { qradarValidate } from '../../devtools/live/qradar-validator.js';
import { expandMacros, splunkParse } from '../../devtools/live/splunk-parser.js';
import { aqlQueries } from '../../shared/detections/backends/aql.js';
import { splSearches } from '../../shared/detections/backends/spl.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { TUNINGS } from '../shared/detections/backends/tunings.js';

/**
 * Checks against the real engines, only when one is configured. No stand-in imitates them: with
 * the variables unset these tests are reported as skipped.
 */
const splunk = { url: process.env['SPLUNK_URL']?.trim(), token: process.env['SPLUNK_TOKEN']?.trim() };
const qradar = { url: process.env['QRADAR_URL']?.trim(), token: process.env['QRADAR_TOKEN']?.trim() };

describe('live SIEM checks', () => {
  it.skipIf(!splunk.url || !splunk.token)('Splunk search/parser accepts every generated search (needs SPLUNK_URL and SPLUNK_TOKEN)', async () => {
    for (const [name, tuning] of TUNINGS) {
      for (const s of splSearches(tuning)) {
        const verdict = await splunkParse(splunk.url as string, splunk.token as string, s.search);
        expect(verdict, `${name}: ${s.name}`).toMatchObject({ ok: true });
      }
    }
  });

  it.skipIf(!qradar.url || !qradar.token)('QRadar ariel/validators/aql accepts every generated query (needs QRADAR_URL and QRADAR_TOKEN, and the exported custom properties defined)', async () => {
    for (const [name, tuning] of TUNINGS) {
      for (const q of aqlQueries(tuning)) {
        const verdict = await qradarValidate(qradar.url as string, qradar.token as string, q.query);
        expect(verdict, `${name}: ${q.detectionId}`).toMatchObject({ ok: true });
      }
    }
  });

  it('expands the certsoar macros before sending a search to Splunk', () => {
    const expanded = expandMacros(splSearches(DEFAULT_TUNING)[0]?.search ?? '');
    expect(expanded).not.toContain('`certsoar_');
    expect(expanded).toContain('sourcetype="stream:ssl"');
  });
});
