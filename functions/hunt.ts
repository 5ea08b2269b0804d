import { type InvocationContext, type Timer, app } from '@azure/functions';
import { loadConfig, requireSettings } from '../shared/config.js';
import type { Detection } from '../shared/detections/types.js';
import { type DetectionRunResult, type HuntDeps, huntDetection, huntSettings } from '../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../shared/hunting/log-analytics.js';
import { enabledDetections, huntFunctionName, scheduleFor } from '../shared/hunting/schedule.js';
import { findSuppression } from '../shared/scoring/score.js';
import { tuningFromConfig } from '../shared/scoring/tuning.js';
import { QueueHitSink } from '../shared/state/hit-queue.js';
import { KNOWN_THREATS_TABLE, TableKnownThreats } from '../shared/state/known-threats.js';
import { ThreatHitSink } from '../shared/threats/threat-sink.js';
import { threatSettings } from '../shared/threats/track-threats.js';
import { HUNT_STATE_TABLE, TableHuntState } from '../shared/state/hunt-state.js';
import { SEEN_HITS_TABLE, TableSeenHits } from '../shared/state/seen-hits.js';
import { QUEUE_NAMES, requireStorage } from '../shared/state/storage.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * One timer function per enabled detection (HUNTS_ENABLED), on the detection's schedule or its
 * HUNT_SCHEDULE_<ID> override. Each run hunts the window since the watermark and puts new hits,
 * grouped into threats (one message per threat), on the "hits" queue (shared/hunting/hunt-detection.ts has the ordering that loses nothing).
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
  const tuning = tuningFromConfig(config);
  return {
    logs: createLogsQueryClient(credential, { endpoint: config.LOG_ANALYTICS_ENDPOINT }),
    workspaceId: LOG_ANALYTICS_WORKSPACE_ID,
    state: new TableHuntState(storage.table(HUNT_STATE_TABLE), FUNCTIONS_STATE_SCOPE),
    seen: new TableSeenHits(storage.table(SEEN_HITS_TABLE), FUNCTIONS_STATE_SCOPE),
    // One queue message per threat (shared/threats/), with the known threats for updates.
    sink: new ThreatHitSink(
      new QueueHitSink(storage.queue(QUEUE_NAMES.hits)),
      new TableKnownThreats(storage.table(KNOWN_THREATS_TABLE), FUNCTIONS_STATE_SCOPE),
      threatSettings(config),
      () => new Date(),
      (hit) => findSuppression(hit, tuning) !== undefined,
    ),
    tuning,
    settings: huntSettings(config),
  };
});

/** Registers the timers; a bad HUNTS_ENABLED or schedule fails loudly at startup, naming the setting. */
export function registerHunts(env: Record<string, string | undefined> = process.env): void {
  const config = loadConfig(env);
  for (const detection of enabledDetections(config)) {
    app.timer(huntFunctionName(detection), {
      schedule: scheduleFor(detection, config),
      runOnStartup: false,
      useMonitor: true,
      handler: makeHuntHandler(detection, productionDeps),
    });
  }
}

registerHunts();
