import { type InvocationContext, type Timer, app } from '@azure/functions';
import type { Detection } from '../shared/detections/types.js';
import type { DetectionRunResult, HuntDeps } from '../shared/hunting/hunt-detection.js';
import { checkedSchedule, HUNT_CATALOG, selectEnabled, timerName } from '../shared/hunting/hunt-timers.js';
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

/** The state scope the timer functions use. */
export const FUNCTIONS_STATE_SCOPE = 'functions';

export type HuntHandler = (timer: Timer, context: InvocationContext) => Promise<DetectionRunResult>;

/**
 * The handler for one detection. `getDeps` is called on every run (cache inside it); tests pass
 * Azurite-backed stores, a LogsQueryClient with a fake credential and their own clock.
 */
export function makeHuntHandler(detection: Detection, getDeps: () => HuntDeps | Promise<HuntDeps>): HuntHandler {
  return async (timer, context) => {
    const [deps, { huntDetection }] = await Promise.all([getDeps(), import('../shared/hunting/hunt-detection.js')]);
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
  const [{ loadConfig }, { huntSettings }, { createHuntSource }, { tuningFromConfig }, { QueueHitSink }, { HUNT_STATE_TABLE, TableHuntState }, { SEEN_HITS_TABLE, TableSeenHits }, { QUEUE_NAMES, requireStorage }, { deadLetterQueueName }] =
    await Promise.all([
      import('../shared/config.js'),
      import('../shared/hunting/hunt-detection.js'),
      import('../shared/hunting/sources/create-source.js'),
      import('../shared/scoring/tuning.js'),
      import('../shared/state/hit-queue.js'),
      import('../shared/state/hunt-state.js'),
      import('../shared/state/seen-hits.js'),
      import('../shared/state/storage.js'),
      import('../shared/state/queue-message.js'),
    ]);
  const [{ findSuppression }, { KNOWN_THREATS_TABLE, TableKnownThreats }, { ThreatHitSink }, { threatSettings }] = await Promise.all([
    import('../shared/scoring/score.js'),
    import('../shared/state/known-threats.js'),
    import('../shared/threats/threat-sink.js'),
    import('../shared/threats/track-threats.js'),
  ]);
  const config = loadConfig(process.env);
  const credential = await appCredential();
  const storage = requireStorage(config, credential);
  const tuning = tuningFromConfig(config);
  return {
    // HUNT_SOURCE: Log Analytics, Splunk or QRadar, each with the settings it needs named when missing.
    source: createHuntSource(config, credential, tuning),
    state: new TableHuntState(storage.table(HUNT_STATE_TABLE), FUNCTIONS_STATE_SCOPE),
    seen: new TableSeenHits(storage.table(SEEN_HITS_TABLE), FUNCTIONS_STATE_SCOPE),
    // One queue message per threat (shared/threats/), with the known threats for updates.
    sink: new ThreatHitSink(
      new QueueHitSink(storage.queue(QUEUE_NAMES.hits), storage.queue(deadLetterQueueName(QUEUE_NAMES.hits))),
      new TableKnownThreats(storage.table(KNOWN_THREATS_TABLE), FUNCTIONS_STATE_SCOPE),
      threatSettings(config),
      () => new Date(),
      (hit) => findSuppression(hit, tuning) !== undefined,
    ),
    tuning,
    settings: huntSettings(config),
  };
});

/** The handler for a registered timer: the detection's definition is loaded on its first run. */
function lazyHuntHandler(detectionId: string): HuntHandler {
  let handler: HuntHandler | undefined;
  return async (timer, context) => {
    if (!handler) {
      const { getDetection } = await import('../shared/detections/index.js');
      handler = makeHuntHandler(getDetection(detectionId), productionDeps);
    }
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

/** huntTimers' rules (shared/hunting/hunt-timers.ts), one timer at a time, reporting instead of throwing. */
function timersToRegister(env: Record<string, string | undefined>, report: (message: string) => void): Array<{ id: string; functionName: string; schedule: string }> {
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

registerHunts();
