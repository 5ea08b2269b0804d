import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { DETECTIONS } from '../../../shared/detections/index.js';
import { ConfigError } from '../../../shared/errors.js';
import { HUNT_CATALOG, huntTimers } from '../../../shared/hunting/hunt-timers.js';
import { enabledDetections, huntFunctionName, scheduleFor } from '../../../shared/hunting/schedule.js';
import { testDetection } from './test-detection.js';

const other = { ...testDetection, meta: { ...testDetection.meta, id: 'TEST.002' }, scheduleSetting: 'HUNT_SCHEDULE_T1608_003' };
const all = [testDetection, other];

describe('enabledDetections', () => {
  it('all by default, none, or a comma list (case-insensitive)', () => {
    expect(enabledDetections(loadConfig({}), all)).toEqual(all);
    expect(enabledDetections(loadConfig({ HUNTS_ENABLED: 'none' }), all)).toEqual([]);
    expect(enabledDetections(loadConfig({ HUNTS_ENABLED: ' test.002 ' }), all)).toEqual([other]);
    expect(enabledDetections(loadConfig({ HUNTS_ENABLED: 'TEST.001,TEST.002' }), all)).toEqual(all);
  });

  it('names an unknown detection', () => {
    expect(() => enabledDetections(loadConfig({ HUNTS_ENABLED: 'TEST.001,T9999' }), all)).toThrow(/HUNTS_ENABLED: unknown detection T9999/);
  });

  it('enables the shipped detections by default', () => {
    expect(enabledDetections(loadConfig({})).map((d) => d.meta.id)).toEqual(DETECTIONS.map((d) => d.meta.id));
  });
});

describe('scheduleFor', () => {
  it('uses the detection’s schedule unless its setting overrides it', () => {
    expect(scheduleFor(testDetection, loadConfig({}))).toBe('0 */5 * * * *');
    expect(scheduleFor(other, loadConfig({ HUNT_SCHEDULE_T1608_003: '0 0 * * * *' }))).toBe('0 0 * * * *');
  });

  it('rejects a schedule that is not six-field NCRONTAB, naming the setting', () => {
    const err = (() => {
      try {
        scheduleFor(other, loadConfig({ HUNT_SCHEDULE_T1608_003: '*/5 * * * *' }));
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems[0]?.path).toBe('HUNT_SCHEDULE_T1608_003');
  });

  it('every shipped detection has a valid schedule and a valid function name', () => {
    for (const d of DETECTIONS) {
      expect(scheduleFor(d, loadConfig({}))).toBe(d.meta.schedule);
      expect(huntFunctionName(d)).toMatch(/^hunt-[A-Za-z0-9-]+$/);
    }
  });
});

describe('huntTimers (what the function app registers before loading the detections)', () => {
  it('the catalogue repeats exactly the shipped detections’ ids, schedules and override settings', () => {
    expect(HUNT_CATALOG).toEqual(DETECTIONS.map((d) => ({ id: d.meta.id, schedule: d.meta.schedule, scheduleSetting: d.scheduleSetting })));
  });

  it('agrees with enabledDetections + scheduleFor on the same settings', () => {
    for (const env of [{}, { HUNTS_ENABLED: 'none' }, { HUNTS_ENABLED: ' t1587.003 , T1608.003' }, { HUNTS_ENABLED: '', HUNT_SCHEDULE_T1608_003: ' 0 0 * * * * ' }]) {
      const config = loadConfig(env);
      expect(huntTimers(env)).toEqual(enabledDetections(config).map((d) => ({ id: d.meta.id, functionName: huntFunctionName(d), schedule: scheduleFor(d, config) })));
    }
  });

  it('names the setting at fault', () => {
    expect(() => huntTimers({ HUNTS_ENABLED: 'T9999' })).toThrow(/HUNTS_ENABLED: unknown detection T9999/);
    expect(() => huntTimers({ HUNT_SCHEDULE_T1588_004: '*/5 * * * *' })).toThrow(/HUNT_SCHEDULE_T1588_004/);
  });
});
