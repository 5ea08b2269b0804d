import type { Config } from '../config.js';
import { DETECTIONS } from '../detections/index.js';
import type { Detection } from '../detections/types.js';
import { checkedSchedule, selectEnabled, timerName } from './hunt-timers.js';

/**
 * Which detections hunt on a timer and when. HUNTS_ENABLED: `all` (default), `none`, or a comma
 * list of detection ids. Schedule: the detection's meta.schedule (NCRONTAB, six fields), or the
 * setting named by detection.scheduleSetting (HUNT_SCHEDULE_T1608_003 …) when set. The rules live
 * in hunt-timers.ts, which the function app registers its timers with before loading detections.
 */

export function enabledDetections(config: Pick<Config, 'HUNTS_ENABLED'>, all: readonly Detection[] = DETECTIONS): Detection[] {
  return selectEnabled(config.HUNTS_ENABLED, all, (d) => d.meta.id);
}

export function scheduleFor(detection: Detection, config: Config): string {
  return checkedSchedule((config as unknown as Record<string, unknown>)[detection.scheduleSetting], detection.meta.schedule, detection.scheduleSetting);
}

/** A function name for a detection's timer: letters, digits and dashes (T1608.003 → hunt-T1608-003). */
export function huntFunctionName(detection: Detection): string {
  return timerName(detection.meta.id);
}
