import type { FieldProblem } from '../../shared/errors.js';

/**
 * The start-up report of every setting (shared/startup-settings.ts), loaded after registration so
 * the settings schema stays off the import path (the timers register from HUNTS_ENABLED and the
 * schedules alone). Never throws: a report that cannot run says so.
 */
export async function reportSettingsAtStartup(env: Record<string, string | undefined>, report: (message: string) => void): Promise<FieldProblem[]> {
  try {
    const { startupSettings } = await import('../../shared/startup-settings.js');
    return startupSettings(env, report).problems;
  } catch (err) {
    report(`certsoar: the start-up settings check failed: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/** DETECTION_MODE as registration needs it, without the settings schema (an invalid value is reported by the check above). */
export function rulesModeSelected(env: Record<string, string | undefined>): boolean {
  return (env['DETECTION_MODE'] ?? '').trim().toLowerCase() === 'rules';
}
