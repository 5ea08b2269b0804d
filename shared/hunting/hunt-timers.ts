import { ConfigError } from '../errors.js';

/**
 * What registering the hunt timers needs, without loading the detections or the settings schema
 * (zod and the detection definitions are most of the function app's start-up): each detection's
 * id, default schedule and override setting, and the rules for HUNTS_ENABLED and the schedules.
 * HUNT_CATALOG repeats three fields of each definition; a test keeps it equal to DETECTIONS.
 */
export interface HuntTimerEntry {
  id: string;
  /** The detection's meta.schedule (six-field NCRONTAB). */
  schedule: string;
  /** detection.scheduleSetting: the setting that overrides the schedule. */
  scheduleSetting: string;
}

export const HUNT_CATALOG: readonly HuntTimerEntry[] = [
  { id: 'T1608.003', schedule: '0 */15 * * * *', scheduleSetting: 'HUNT_SCHEDULE_T1608_003' },
  { id: 'T1588.004', schedule: '0 5 * * * *', scheduleSetting: 'HUNT_SCHEDULE_T1588_004' },
  { id: 'T1587.003', schedule: '0 10 * * * *', scheduleSetting: 'HUNT_SCHEDULE_T1587_003' },
];

/** HUNTS_ENABLED (`all`, `none`, or a comma list of ids, any case) applied to `all`; names unknown ids. */
export function selectEnabled<T>(setting: string, all: readonly T[], idOf: (item: T) => string): T[] {
  const text = setting.trim();
  if (text.toLowerCase() === 'all') return [...all];
  if (text.toLowerCase() === 'none' || text === '') return [];
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !all.some((d) => idOf(d).toLowerCase() === id.toLowerCase()));
  if (unknown.length > 0) {
    throw new ConfigError([{ path: 'HUNTS_ENABLED', message: `unknown detection ${unknown.join(', ')}; expected all, none or some of ${all.map(idOf).join(', ')}` }]);
  }
  return all.filter((d) => ids.some((id) => id.toLowerCase() === idOf(d).toLowerCase()));
}

const NCRONTAB_FIELD = /^[0-9*/,\-A-Za-z]+$/;

/** The override when set (trimmed), else the default; fails naming the setting unless six NCRONTAB fields. */
export function checkedSchedule(override: unknown, fallback: string, setting: string): string {
  const schedule = typeof override === 'string' && override.trim() !== '' ? override.trim() : fallback;
  const fields = schedule.split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => NCRONTAB_FIELD.test(f))) {
    throw new ConfigError([{ path: setting, message: `"${schedule}" is not an NCRONTAB expression with six fields (second minute hour day month weekday), e.g. "0 */15 * * * *"` }]);
  }
  return schedule;
}

/** A function name for a detection's timer: letters, digits and dashes (T1608.003 → hunt-T1608-003). */
export function timerName(detectionId: string): string {
  return `hunt-${detectionId.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

/** The timers to register, from the raw environment (the same rules loadConfig and schedule.ts apply). */
export function huntTimers(env: Record<string, string | undefined>): Array<{ id: string; functionName: string; schedule: string }> {
  return selectEnabled(env.HUNTS_ENABLED?.trim() || 'all', HUNT_CATALOG, (e) => e.id).map((e) => ({
    id: e.id,
    functionName: timerName(e.id),
    schedule: checkedSchedule(env[e.scheduleSetting], e.schedule, e.scheduleSetting),
  }));
}

/** huntTimers' rules (shared/hunting/hunt-timers.ts), one timer at a time, reporting instead of throwing. */
export function timersToRegister(env: Record<string, string | undefined>, report: (message: string) => void): Array<{ id: string; functionName: string; schedule: string }> {
  let enabled: typeof HUNT_CATALOG;
  try {
    enabled = selectEnabled(env.HUNTS_ENABLED?.trim() || 'all', HUNT_CATALOG, (e) => e.id);
  } catch (err) {
    report(`certsoar: no timer hunts registered: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
  const out: Array<{ id: string; functionName: string; schedule: string }> = [];
  for (const e of enabled) {
    try {
      out.push({ id: e.id, functionName: timerName(e.id), schedule: checkedSchedule(env[e.scheduleSetting], e.schedule, e.scheduleSetting) });
    } catch (err) {
      report(`certsoar: timer ${timerName(e.id)} not registered: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}
