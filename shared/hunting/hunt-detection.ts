import type { LogsQueryClient } from '@azure/monitor-query-logs';
import type { Config } from '../config.js';
import { detectionParams } from '../detections/index.js';
import type { Detection, QueryWindow } from '../detections/types.js';
import { parseDuration } from '../duration.js';
import { ValidationError } from '../errors.js';
import type { Hit } from '../model.js';
import { errorMessage } from '../redact.js';
import type { Tuning } from '../scoring/tuning.js';
import type { HitSink } from '../state/hit-queue.js';
import { type HuntStateStore, type Watermark, WatermarkConflictError } from '../state/hunt-state.js';
import type { SeenHitStore } from '../state/seen-hits.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError, queryPrimaryTable } from './log-analytics.js';
import { rowsOf } from './rows.js';

/**
 * One hunt run of one detection: the window from the watermark to now, queried slice by slice,
 * rows → hits → only the new ones sent on → watermark moved.
 *
 * Window: [watermark − HUNT_OVERLAP, now − HUNT_INGESTION_DELAY) by ingestion_time(); the first
 * run starts at now − HUNT_INITIAL_LOOKBACK. A window longer than HUNT_MAX_WINDOW (a long outage)
 * is cut into chunks of that size. A slice whose answer was cut at the service limits, came back
 * with a partial error, or timed out, is split in halves, recursively, down to minSliceMs; its
 * partial rows are never used, so nothing past data we did not get is ever passed.
 *
 * Ordering per slice, which is what makes the hunt lose nothing:
 *   1. query the slice; any error → stop, the watermark stays where it is;
 *   2. keep the hits whose key is not in the seen-hits table;
 *   3. send them (the "hits" queue);           crash after 3 → not marked seen, watermark not
 *                                               moved: the next run finds and sends them again
 *                                               (a duplicate the consumer's idempotency absorbs,
 *                                               never a loss);
 *   4. mark them seen (with SEEN_HIT_TTL);      crash after 4 → watermark not moved: the next run
 *                                               re-queries the slice, finds them seen, sends nothing;
 *   5. move the watermark to the slice's end.
 * Marking seen before sending would turn a crash between the two into a lost hit, and moving the
 * watermark before sending would skip the slice; so the order is send → mark → move.
 */

export interface HuntSettings {
  overlapMs: number;
  ingestionDelayMs: number;
  maxWindowMs: number;
  initialLookbackMs: number;
  seenHitTtlMs: number;
}

export function huntSettings(config: Config): HuntSettings {
  return {
    overlapMs: config.HUNT_OVERLAP,
    ingestionDelayMs: config.HUNT_INGESTION_DELAY,
    maxWindowMs: config.HUNT_MAX_WINDOW,
    initialLookbackMs: config.HUNT_INITIAL_LOOKBACK,
    seenHitTtlMs: config.SEEN_HIT_TTL,
  };
}

export interface HuntLimits {
  /** Slices are not split below this. */
  minSliceMs: number;
  serverTimeoutInSeconds: number;
  /** One query including the SDK's retries. */
  queryDeadlineMs: number;
  /** No new slice starts after this much time in one run (the function timeout is 10 minutes). */
  runBudgetMs: number;
  /**
   * A slice with more hits than this is split (while it can be), so each slice's seen-checks and
   * queue sends finish well inside the run budget and progress is saved slice by slice.
   */
  maxHitsPerSlice: number;
}

export const DEFAULT_HUNT_LIMITS: HuntLimits = {
  minSliceMs: 60_000,
  serverTimeoutInSeconds: 180,
  queryDeadlineMs: 240_000,
  runBudgetMs: 420_000,
  maxHitsPerSlice: 5_000,
};

export interface HuntLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface HuntDeps {
  logs: LogsQueryClient;
  workspaceId: string;
  state: HuntStateStore;
  seen: SeenHitStore;
  sink: HitSink;
  tuning: Tuning;
  settings: HuntSettings;
  limits?: Partial<HuntLimits>;
  now?: () => Date;
  log?: HuntLogger;
}

export interface HuntRunOptions {
  /** Ad-hoc window start (now − since); the watermark is then neither read nor moved. */
  sinceMs?: number;
}

export type HuntStatus = 'ok' | 'incomplete' | 'failed' | 'unhealthy';

export interface DetectionRunResult {
  detectionId: string;
  /**
   * ok: the whole window was handled; incomplete: stopped early (a transient failure or the run
   * budget), the rest is left for the next run; failed: nothing handled (transient); unhealthy:
   * the service rejected the query or its answer did not fit (needs a fix, logged).
   */
  status: HuntStatus;
  window?: { start: string; end: string };
  /** Watermark after the run (ISO), when one is kept. */
  watermark?: string;
  queries: number;
  rows: number;
  hits: number;
  /** Hits sent on (not seen before). */
  newHits: number;
  problems: string[];
}

const silent: HuntLogger = { info: () => {}, warn: () => {}, error: () => {} };

export async function huntDetection(detection: Detection, deps: HuntDeps, options: HuntRunOptions = {}): Promise<DetectionRunResult> {
  const id = detection.meta.id;
  const limits = { ...DEFAULT_HUNT_LIMITS, ...deps.limits };
  const clock = deps.now ?? (() => new Date());
  const log = deps.log ?? silent;
  const { settings } = deps;
  const startedAt = Date.now();
  const now = clock();
  const result: DetectionRunResult = { detectionId: id, status: 'ok', queries: 0, rows: 0, hits: 0, newHits: 0, problems: [] };

  const adHoc = options.sinceMs !== undefined;
  let watermark: Watermark | undefined;
  try {
    watermark = adHoc ? undefined : await deps.state.getWatermark(id);
  } catch (err) {
    return fail(result, log, 'failed', `${id}: cannot read the watermark: ${errorMessage(err)}`);
  }
  const end = new Date(now.getTime() - settings.ingestionDelayMs);
  const start = adHoc
    ? new Date(now.getTime() - (options.sinceMs as number))
    : watermark
      ? new Date(watermark.value.getTime() - settings.overlapMs)
      : new Date(now.getTime() - settings.initialLookbackMs);
  if (watermark) result.watermark = watermark.value.toISOString();
  if (!(start.getTime() < end.getTime())) return result;
  result.window = { start: start.toISOString(), end: end.toISOString() };

  let params: Record<string, unknown>;
  try {
    params = detectionParams(detection, deps.tuning);
  } catch (err) {
    return markUnhealthy(detection, deps, result, log, now, `invalid parameters: ${errorMessage(err)}`);
  }
  const guardMs = (typeof params.lookback === 'string' ? parseDuration(params.lookback) : undefined) ?? 7 * 86_400_000;

  // Slices to handle, in time order; a slice that is too big is replaced by its two halves.
  const pending: QueryWindow[] = chunks(start, end, settings.maxWindowMs);
  let handledAny = false;
  while (pending.length > 0) {
    if (Date.now() - startedAt > limits.runBudgetMs) {
      result.status = 'incomplete';
      result.problems.push(`${id}: run budget spent; the rest of the window is left for the next run`);
      log.warn(result.problems[result.problems.length - 1] as string);
      break;
    }
    const slice = pending.shift() as QueryWindow;
    let hits: Hit[];
    try {
      result.queries++;
      const answer = await queryPrimaryTable(deps.logs, {
        workspaceId: deps.workspaceId,
        query: detection.buildQuery(params, slice),
        window: slice,
        timespan: {
          startTime: new Date(slice.start.getTime() - guardMs - 3_600_000),
          endTime: new Date(Math.max(slice.end.getTime(), now.getTime()) + 86_400_000),
        },
        serverTimeoutInSeconds: limits.serverTimeoutInSeconds,
        // Never past the run budget plus two minutes (the function timeout is ten).
        deadlineMs: Math.max(10_000, Math.min(limits.queryDeadlineMs, limits.runBudgetMs + 120_000 - (Date.now() - startedAt))),
      });
      hits = [];
      const keys = new Set<string>();
      const splittable = slice.end.getTime() - slice.start.getTime() >= 2 * limits.minSliceMs;
      for (const row of rowsOf(answer.table, detection)) {
        if (splittable && hits.length > limits.maxHitsPerSlice) break; // split below; no need to build the rest
        result.rows++;
        // What hitFromRow does, with the parameters parsed once per run instead of once per row.
        const e = detection.evaluate(row, params);
        if (e && !keys.has(e.key)) {
          keys.add(e.key); // a row can repeat in an answer: one hit per key
          const hit: Hit = { detectionId: id, key: e.key, time: e.time, row, signals: e.signals, indicators: e.indicators, entities: e.entities };
          if (e.certificate) hit.certificate = e.certificate;
          hits.push(hit);
        }
      }
    } catch (err) {
      const span = slice.end.getTime() - slice.start.getTime();
      if ((err instanceof ResultTooLargeError || err instanceof PartialResultError || err instanceof QueryTimeoutError) && span >= 2 * limits.minSliceMs) {
        const mid = new Date(slice.start.getTime() + Math.floor(span / 2));
        log.warn(`${id}: ${err.message}; splitting ${slice.start.toISOString()}..${slice.end.toISOString()} in halves`);
        pending.unshift({ start: slice.start, end: mid }, { start: mid, end: slice.end });
        continue;
      }
      if (err instanceof QueryRejectedError || err instanceof ValidationError) {
        return markUnhealthy(detection, deps, result, log, now, errorMessage(err));
      }
      const what = err instanceof ResultTooLargeError ? `${errorMessage(err)} even in a ${Math.round(span / 1000)} s slice; narrow the detection` : errorMessage(err);
      return fail(result, log, handledAny ? 'incomplete' : 'failed', `${id}: ${what}; watermark kept at ${result.watermark ?? 'none'}`);
    }

    const span = slice.end.getTime() - slice.start.getTime();
    if (hits.length > limits.maxHitsPerSlice && span >= 2 * limits.minSliceMs) {
      const mid = new Date(slice.start.getTime() + Math.floor(span / 2));
      log.warn(`${id}: ${hits.length} hits in one slice; splitting ${slice.start.toISOString()}..${slice.end.toISOString()} in halves`);
      pending.unshift({ start: slice.start, end: mid }, { start: mid, end: slice.end });
      continue;
    }
    result.hits += hits.length;
    try {
      // An ad-hoc window (--since) shows everything in it and leaves the state alone.
      const hitKeys = hits.map((h) => h.key);
      const fresh = adHoc ? hitKeys : await deps.seen.unseen(id, hitKeys, now);
      // Keys are unique within a slice, so as many fresh keys as hits means every hit is new:
      // the usual case, and no set of a slice's worth of keys to build.
      const freshSet = fresh.length === hitKeys.length ? undefined : new Set(fresh);
      const newHits = freshSet ? hits.filter((h) => freshSet.has(h.key)) : hits;
      await deps.sink.send(newHits); // 3. send
      if (!adHoc) await deps.seen.markSeen(id, freshSet ? newHits.map((h) => h.key) : hitKeys, now, settings.seenHitTtlMs); // 4. mark seen
      result.newHits += newHits.length;
      if (!adHoc && (!watermark || slice.end.getTime() > watermark.value.getTime())) {
        watermark = await deps.state.setWatermark(id, slice.end, watermark); // 5. move the watermark
        result.watermark = watermark.value.toISOString();
      }
      handledAny = true;
    } catch (err) {
      const why = err instanceof WatermarkConflictError ? err.message : `${id}: cannot record hits: ${errorMessage(err)}`;
      return fail(result, log, handledAny ? 'incomplete' : 'failed', why);
    }
  }

  if (!adHoc) {
    try {
      await deps.state.setHealth(id, { healthy: true, checkedAt: now.toISOString(), lastSuccessAt: now.toISOString() });
      await deps.seen.purgeExpired(id, now, 500);
    } catch (err) {
      result.problems.push(`${id}: housekeeping failed: ${errorMessage(err)}`);
      log.warn(result.problems[result.problems.length - 1] as string);
    }
  }
  log.info(`${id}: ${result.status}; ${result.queries} queries, ${result.rows} rows, ${result.hits} hits, ${result.newHits} new; watermark ${result.watermark ?? 'none'}`);
  return result;
}

/** [start, end) cut into pieces of at most maxMs, in order. */
export function chunks(start: Date, end: Date, maxMs: number): QueryWindow[] {
  const out: QueryWindow[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += maxMs) {
    out.push({ start: new Date(t), end: new Date(Math.min(t + maxMs, end.getTime())) });
  }
  return out;
}

function fail(result: DetectionRunResult, log: HuntLogger, status: HuntStatus, problem: string): DetectionRunResult {
  result.status = status;
  result.problems.push(problem);
  log.error(problem);
  return result;
}

async function markUnhealthy(detection: Detection, deps: HuntDeps, result: DetectionRunResult, log: HuntLogger, now: Date, reason: string): Promise<DetectionRunResult> {
  const id = detection.meta.id;
  const problem = `detection ${id} (${detection.meta.title}) is unhealthy: ${reason}; watermark kept at ${result.watermark ?? 'none'}`;
  fail(result, log, 'unhealthy', problem);
  try {
    const previous = await deps.state.getHealth(id);
    await deps.state.setHealth(id, {
      healthy: false,
      reason,
      checkedAt: now.toISOString(),
      ...(previous?.lastSuccessAt ? { lastSuccessAt: previous.lastSuccessAt } : {}),
    });
  } catch (err) {
    result.problems.push(`${id}: cannot record health: ${errorMessage(err)}`);
  }
  return result;
}

