import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { getDetection } from '../detections/index.js';
import type { Detection } from '../detections/types.js';
import { type DetectionRunResult, type HuntDeps, huntDetection, huntSettings } from '../hunting/hunt-detection.js';
import { createHuntSource } from '../hunting/sources/create-source.js';
import { findSuppression } from '../scoring/score.js';
import { tuningFromConfig } from '../scoring/tuning.js';
import { KNOWN_THREATS_TABLE, TableKnownThreats } from '../state/known-threats.js';
import { ThreatHitSink } from '../threats/threat-sink.js';
import { threatSettings } from '../threats/track-threats.js';
import { QueueHitSink } from '../state/hit-queue.js';
import { HUNT_STATE_TABLE, TableHuntState } from '../state/hunt-state.js';
import { deadLetterQueueName } from '../state/queue-message.js';
import { QUEUE_NAMES } from '../state/queue-encoding.js';
import { SEEN_HITS_TABLE, TableSeenHits } from '../state/seen-hits.js';
import { requireStorage } from '../state/storage.js';
import type { UseCaseLog } from './log.js';

/**
 * Hunt a source. Three sources, one engine per kind:
 * - Log Analytics on a schedule (the timer functions): huntScheduled, one detection per run, new
 *   hits to the "hits" queue, the watermark and seen hits in Table Storage under scope 'functions';
 * - Log Analytics once (`certsoar hunt`): shared/hunting/hunt-once.ts, the same huntDetection with
 *   the CLI's own state scope and an in-memory sink;
 * - exported tables (`certsoar hunt --workspace DIR` and the offline demo): the CLI's
 *   cli/workspace-input/evaluate.ts, every row through the detection's evaluator, with a summary per table.
 */

/** The state scope the timer functions use. */
export const FUNCTIONS_STATE_SCOPE = 'functions';

/**
 * One scheduled run of one detection. A run that moved nothing throws, so it shows as a failed
 * invocation in Application Insights; an incomplete one made progress and only warns (its
 * problems are already logged).
 */
export async function huntScheduled(detection: Detection, deps: HuntDeps, late: boolean, log: UseCaseLog): Promise<DetectionRunResult> {
  if (late) log.warn(`${detection.meta.id}: this run is late (past due); the window still starts at the watermark`);
  const result = await huntDetection(detection, { ...deps, log });
  if (result.status === 'failed' || result.status === 'unhealthy') {
    throw new Error(`hunt ${detection.meta.id} ${result.status}: ${result.problems.join('; ')}`);
  }
  return result;
}

/** The detection a registered timer runs (the definitions load on the first run, not at start-up). */
export function scheduledDetection(detectionId: string): Detection {
  return getDetection(detectionId);
}

/** Production wiring for the timers (DefaultAzureCredential = the managed identity there). */
export function scheduledHuntDeps(config: Config, credential: TokenCredential): HuntDeps {
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
}
