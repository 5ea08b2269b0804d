import { type InvocationContext, type Timer, app } from '@azure/functions';
import type { Detection } from '../shared/detections/types.js';
import type { DetectionRunResult, HuntDeps } from '../shared/hunting/hunt-detection.js';
import { huntTimers } from '../shared/hunting/hunt-timers.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * One timer function per enabled detection (HUNTS_ENABLED), on its schedule or HUNT_SCHEDULE_<ID>
 * → shared/use-cases/run-hunt.ts (huntScheduled). The host runs a timer function as a singleton,
 * so runs of one detection never overlap. Registering needs only HUNTS_ENABLED and the schedules;
 * the definitions, the hunt engine and the Azure clients load on the first run.
 */
export type HuntHandler = (timer: Timer, context: InvocationContext) => Promise<DetectionRunResult>;

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

/** Registers the timers; a bad HUNTS_ENABLED or schedule fails loudly at startup, naming the setting. */
export function registerHunts(env: Record<string, string | undefined> = process.env): void {
  for (const timer of huntTimers(env)) {
    app.timer(timer.functionName, { schedule: timer.schedule, runOnStartup: false, useMonitor: true, handler: lazyHuntHandler(timer.id) });
  }
}

registerHunts();
