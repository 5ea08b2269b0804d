import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../../shared/config.js';
import { parseDuration } from '../../../shared/duration.js';
import { ValidationError } from '../../../shared/errors.js';
import { DETECTIONS, detectionParams, getDetection } from '../../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';

describe('DETECTIONS', () => {
  it('registers the three techniques in a fixed order', () => {
    expect(DETECTIONS.map((d) => d.meta.id)).toEqual(['T1608.003', 'T1588.004', 'T1587.003']);
    expect(getDetection('T1588.004').meta.tables).toEqual(['DeviceRegistryEvents']);
    expect(() => getDetection('T9999.999')).toThrow(ValidationError);
  });

  for (const d of DETECTIONS) {
    it(`${d.meta.id}: metadata is complete and consistent`, () => {
      const m = d.meta;
      expect(m.technique.id).toBe(m.id);
      expect(m.technique.url).toBe(`https://attack.mitre.org/techniques/${m.id.replace('.', '/')}/`);
      expect(m.tactics).toEqual(['ResourceDevelopment']);
      expect(m.title.length).toBeGreaterThan(20);
      expect(m.description.length).toBeGreaterThan(100);
      expect(m.falsePositives.length).toBeGreaterThanOrEqual(4);
      expect(m.references[0]).toBe(m.technique.url);
      expect(m.tables.length).toBeGreaterThan(0);
      expect(m.connectors.length).toBeGreaterThan(0);
      expect(parseDuration(m.queryFrequency)).toBeLessThanOrEqual(parseDuration(m.queryPeriod) as number);
      expect(m.schedule.split(' ')).toHaveLength(6);
      expect(d.scheduleSetting).toBe(`HUNT_SCHEDULE_${m.id.replace('.', '_')}`);
      expect(SETTING_NAMES).toContain(d.scheduleSetting);
      expect(d.projectedColumns).toContain('TimeGenerated');
    });

    it(`${d.meta.id}: parameters default from an empty tuning section`, () => {
      const params = detectionParams(d, DEFAULT_TUNING);
      expect(params).toEqual(d.paramsSchema.parse({}));
      expect(params).toMatchObject({ lookback: d.meta.queryPeriod, minScore: 1 });
    });
  }
});

describe('detectionParams cache', () => {
  it('parses once per tuning document, and a different tuning gets its own parameters', async () => {
    const { parseTuning } = await import('../../../shared/scoring/tuning.js');
    const d = getDetection('T1608.003');
    const a = parseTuning({ detections: { 'T1608.003': { minScore: 3 } } });
    const b = parseTuning({ detections: { 'T1608.003': { minScore: 4 } } });
    expect(detectionParams(d, a)).toBe(detectionParams(d, a));
    expect(detectionParams(d, a).minScore).toBe(3);
    expect(detectionParams(d, b).minScore).toBe(4);
  });
});
