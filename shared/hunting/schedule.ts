import type { Config } from '../config.js';
import { DETECTIONS } from '../detections/index.js';
import type { Detection } from '../detections/types.js';
import { ConfigError } from '../errors.js';

/**
 * Which detections hunt on a timer and when. HUNTS_ENABLED: `all` (default), `none`, or a comma
 * list of detection ids. Schedule: the detection's meta.schedule (NCRONTAB, six fields), or the
 * setting named by detection.scheduleSetting (HUNT_SCHEDULE_T1608_003 …) when set.
 */

export function enabledDetections(config: Pick<Config, 'HUNTS_ENABLED'>, all: readonly Detection[] = DETECTIONS): Detection[] {
  const text = config.HUNTS_ENABLED.trim();
  if (text.toLowerCase() === 'all') return [...all];
  if (text.toLowerCase() === 'none' || text === '') return [];
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !all.some((d) => d.meta.id.toLowerCase() === id.toLowerCase()));
  if (unknown.length > 0) {
    throw new ConfigError([{ path: 'HUNTS_ENABLED', message: `unknown detection ${unknown.join(', ')}; expected all, none or some of ${all.map((d) => d.meta.id).join(', ')}` }]);
  }
  return all.filter((d) => ids.some((id) => id.toLowerCase() === d.meta.id.toLowerCase()));
}

const NCRONTAB_FIELD = /^[0-9*/,\-A-Za-z]+$/;

export function scheduleFor(detection: Detection, config: Config): string {
  const override = (config as unknown as Record<string, unknown>)[detection.scheduleSetting];
  const schedule = typeof override === 'string' && override.trim() !== '' ? override.trim() : detection.meta.schedule;
  const fields = schedule.split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => NCRONTAB_FIELD.test(f))) {
    throw new ConfigError([
      { path: detection.scheduleSetting, message: `"${schedule}" is not an NCRONTAB expression with six fields (second minute hour day month weekday), e.g. "0 */15 * * * *"` },
    ]);
  }
  return schedule;
}

/** A function name for a detection's timer: letters, digits and dashes (T1608.003 → hunt-T1608-003). */
export function huntFunctionName(detection: Detection): string {
  return `hunt-${detection.meta.id.replace(/[^A-Za-z0-9]+/g, '-')}`;
}
