import { type InvocationContext, type Timer, app } from '@azure/functions';
import { type Config, loadConfig, requireSettings } from '../shared/config.js';
import type { Detection } from '../shared/detections/types.js';
import { type DetectionRunResult, type HuntDeps, huntDetection, huntSettings } from '../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../shared/hunting/log-analytics.js';
import { enabledDetections, huntFunctionName, scheduleFor } from '../shared/hunting/schedule.js';
import { errorMessage } from '../shared/redact.js';
import { tuningFromConfig } from '../shared/scoring/tuning.js';

import { QueueHitSink } from '../shared/state/hit-queue.js';
import { HUNT_STATE_TABLE, TableHuntState } from '../shared/state/hunt-state.js';
import { SEEN_HITS_TABLE, TableSeenHits } from '../shared/state/seen-hits.js';
import { QUEUE_NAMES, requireStorage } from '../shared/state/storage.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';
import { reportSettingsAtStartup, rulesModeSelected } from './lib/startup-report.js';

/**
 * One timer function per enabled detection (HUNTS_ENABLED), on the detection's schedule or its
 * HUNT_SCHEDULE_<ID> override. Each run hunts the window since the watermark and puts new hits on
 * the "hits" queue (shared/hunting/hunt-detection.ts has the ordering that loses nothing).
 * The Functions host runs a timer function as a singleton (a blob lease), so runs of one detection
 * never overlap; the watermark write is conditional anyway.
 */

/** The state scope the timer functions use. */
export const FUNCTIONS_STATE_SCOPE = 'functions';

export type HuntHandler = (timer: Timer, context: InvocationContext) => Promise<DetectionRunResult>;

/**
 * The handler for one detection. `getDeps` is called on every run (cache inside it); tests pass
 * Azurite-backed stores, a LogsQueryClient with a fake credential and their own clock.
 */
export function makeHuntHandler(detection: Detection, getDeps: () => HuntDeps | Promise<HuntDeps>): HuntHandler {
  return async (timer, context) => {
    const deps = await getDeps();
    if (timer.isPastDue) context.warn(`${detection.meta.id}: this run is late (past due); the window still starts at the watermark`);
    const result = await huntDetection(detection, {
      ...deps,
      log: { info: (m) => context.log(m), warn: (m) => context.warn(m), error: (m) => context.error(m) },
    });
    // A run that moved nothing shows as a failed invocation in Application Insights; an
    // incomplete one made progress and only warns (its problems are already logged).
    if (result.status === 'failed' || result.status === 'unhealthy') {
      throw new Error(`hunt ${detection.meta.id} ${result.status}: ${result.problems.join('; ')}`);
    }
    return result;
  };
}

/** Azure wiring, built on the first run only (DefaultAzureCredential = the managed identity there). */
const productionDeps = buildOnce(async (): Promise<HuntDeps> => {
  const config = loadConfig(process.env);
  const { LOG_ANALYTICS_WORKSPACE_ID } = requireSettings(config, 'scheduled hunts', ['LOG_ANALYTICS_WORKSPACE_ID']);
  const credential = appCredential();
  const storage = requireStorage(config, credential);
  return {
    logs: createLogsQueryClient(credential, { endpoint: config.LOG_ANALYTICS_ENDPOINT }),
    workspaceId: LOG_ANALYTICS_WORKSPACE_ID,
    state: new TableHuntState(storage.table(HUNT_STATE_TABLE), FUNCTIONS_STATE_SCOPE),
    seen: new TableSeenHits(storage.table(SEEN_HITS_TABLE), FUNCTIONS_STATE_SCOPE),
    sink: new QueueHitSink(storage.queue(QUEUE_NAMES.hits)),
    tuning: tuningFromConfig(config),
    settings: huntSettings(config),
  };
});

/**
 * Registers the timers (none in rules mode: Sentinel's analytics rules detect then, and one event
 * must never raise two incidents). An invalid setting is reported loudly at start-up and never
 * stops the module from loading, so the other functions keep running; a bad HUNTS_ENABLED or
 * schedule leaves that timer out, naming the setting.
 */
export function registerHunts(env: Record<string, string | undefined> = process.env, report: (message: string) => void = console.error): string[] {
  startupCheck = reportSettingsAtStartup(env, report);
  if (rulesModeSelected(env)) {
    report('certsoar: DETECTION_MODE=rules: the timer hunts are off; the analytics rules detect and POST /api/enrich enriches their incidents');
    return [];
  }
  const registered: string[] = [];
  for (const { detection, schedule } of timersToRegister(env, report)) {
    app.timer(huntFunctionName(detection), { schedule, runOnStartup: false, useMonitor: true, handler: makeHuntHandler(detection, productionDeps) });
    registered.push(huntFunctionName(detection));
  }
  return registered;
}

/** The start-up settings report of the last registerHunts call (tests await it). */
export let startupCheck: Promise<unknown> = Promise.resolve();

/** The timers HUNTS_ENABLED and the schedules ask for; a bad value leaves timers out, reported by name. */
function timersToRegister(env: Record<string, string | undefined>, report: (message: string) => void): Array<{ detection: Detection; schedule: string }> {
  const raw = (name: string) => env[name]?.trim() ?? '';
  let detections: Detection[];
  try {
    detections = enabledDetections({ HUNTS_ENABLED: raw('HUNTS_ENABLED') || 'all' });
  } catch (err) {
    report(`certsoar: no timer hunts registered: ${errorMessage(err)}`);
    return [];
  }
  const out: Array<{ detection: Detection; schedule: string }> = [];
  for (const detection of detections) {
    try {
      out.push({ detection, schedule: scheduleFor(detection, { [detection.scheduleSetting]: raw(detection.scheduleSetting) } as unknown as Config) });
    } catch (err) {
      report(`certsoar: timer ${huntFunctionName(detection)} not registered: ${errorMessage(err)}`);
    }
  }
  return out;
}

registerHunts();
