import { type InvocationContext, type Timer, app } from '@azure/functions';
import type { Detection } from '../shared/detections/types.js';
import type { DetectionRunResult, HuntDeps } from '../shared/hunting/hunt-detection.js';
import { timersToRegister } from '../shared/hunting/hunt-timers.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';
import { reportSettingsAtStartup, rulesModeSelected } from './lib/startup-report.js';

/**
 * One timer function per enabled detection (HUNTS_ENABLED), on the detection's schedule or its
 * HUNT_SCHEDULE_<ID> override. Each run hunts the window since the watermark and puts new hits,
 * grouped into threats (one hit per threat), on the "hits" queue (shared/hunting/hunt-detection.ts
 * has the ordering that loses nothing).
 * The Functions host runs a timer function as a singleton (a blob lease), so runs of one detection
 * never overlap; the watermark write is conditional anyway.
 * Registering needs only HUNTS_ENABLED and the schedules (shared/hunting/hunt-timers.ts); the
 * settings schema, the detections, the hunt engine and the Azure clients are imported on the first run.
 */

export type HuntHandler = (timer: Timer, context: InvocationContext) => Promise<DetectionRunResult>;

/** The handler for one detection → shared/use-cases/run-hunt.ts; tests pass their own deps. */
export function makeHuntHandler(detection: Detection, getDeps: () => HuntDeps | Promise<HuntDeps>): HuntHandler {
  return async (timer, context) => {
    const [deps, { huntScheduled }] = await Promise.all([getDeps(), import('../shared/use-cases/run-hunt.js')]);
    return huntScheduled(detection, deps, timer.isPastDue, contextLog(context));
  };
}

const productionDeps = buildOnce(async () => {
  const [{ loadConfig }, { scheduledHuntDeps }] = await Promise.all([import('../shared/config.js'), import('../shared/use-cases/run-hunt.js')]);
  return scheduledHuntDeps(loadConfig(process.env), await appCredential());
});

/** The handler for a registered timer: the detection's definition is loaded on its first run. */
function lazyHuntHandler(detectionId: string): HuntHandler {
  let handler: HuntHandler | undefined;
  return async (timer, context) => {
    handler ??= makeHuntHandler((await import('../shared/use-cases/run-hunt.js')).scheduledDetection(detectionId), productionDeps);
    return handler(timer, context);
  };
}

/**
 * Registers the timers (none in rules mode: Sentinel's analytics rules detect then, and one event
 * must never raise two incidents). Nothing here throws: a bad HUNTS_ENABLED leaves every timer out
 * and a bad schedule its own, each reported by setting name; every other setting is checked right
 * after (startupCheck) and reported loudly, so the other functions keep running.
 */
export function registerHunts(env: Record<string, string | undefined> = process.env, report: (message: string) => void = console.error): string[] {
  startupCheck = reportSettingsAtStartup(env, report);
  if (rulesModeSelected(env)) {
    report('certsoar: DETECTION_MODE=rules: the timer hunts are off; the analytics rules detect and POST /api/enrich enriches their incidents');
    return [];
  }
  const registered: string[] = [];
  for (const timer of timersToRegister(env, report)) {
    app.timer(timer.functionName, { schedule: timer.schedule, runOnStartup: false, useMonitor: true, handler: lazyHuntHandler(timer.id) });
    registered.push(timer.functionName);
  }
  return registered;
}

/** The start-up settings report of the last registerHunts call (tests await it). */
export let startupCheck: Promise<unknown> = Promise.resolve();

registerHunts();
