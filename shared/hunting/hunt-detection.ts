import type { Config } from '../config.js';
import { detectionParams } from '../detections/index.js';
import type { Detection, QueryWindow } from '../detections/types.js';
import { parseDuration } from '../duration.js';
import { ValidationError } from '../errors.js';
import type { Hit, Row } from '../model.js';
import { errorMessage } from '../redact.js';
import type { Tuning } from '../scoring/tuning.js';
import type { HitSink } from '../state/hit-queue.js';
import { describeDeadLetter } from '../state/queue-message.js';
import { type HuntStateStore, type Watermark, WatermarkConflictError } from '../state/hunt-state.js';
import type { SeenHitStore } from '../state/seen-hits.js';
import { PartialResultError, QueryRejectedError, QueryTimeoutError, ResultTooLargeError } from './log-analytics.js';
import type { HuntSource, RowBin, SliceQuery } from './sources/hunt-source.js';

/**
 * One hunt run of one detection: the window from the watermark to now, queried slice by slice,
 * rows → hits → only the new ones sent on → watermark moved.
 *
 * Window: [watermark − HUNT_OVERLAP, now − HUNT_INGESTION_DELAY) by ingestion_time(); the first
 * run starts at now − HUNT_INITIAL_LOOKBACK. A window longer than HUNT_MAX_WINDOW (a long outage)
 * is cut into chunks of that size. A slice whose answer was cut at the service limits, came back
 * with a partial error, or timed out, is split in halves, recursively, down to minSliceMs; its
 * partial rows are never used, so nothing past data we did not get is ever passed. A complete
 * answer, however large, is used whole: its hits are recorded in batches in memory, never re-queried.
 * Before a slice is queried, a source that can count (Log Analytics) is asked how many rows its
 * answer holds per minute of ingestion time (one small summarised answer, counted apart from the
 * row queries); a slice over maxRowsPerAnswer is cut on those bins into pieces under it, so no one
 * answer (and the client's copies of it) can grow past that, and every row is still downloaded once.
 *
 * Ordering per slice, which is what makes the hunt lose nothing:
 *   1. query the slice; any error → stop, the watermark stays where it is;
 *   2. keep the hits whose key is not in the seen-hits table (one query per batch, reading the
 *      marks made since the slice start less a clock margin: only those can cover its rows);
 *   3. send them (the "hits" queue, grouped per message; a hit no message can hold goes to the
 *      dead-letter queue with its reason, so it never stops the hunt);
 *                                               crash after 3 → not marked seen, watermark not
 *                                               moved: the next run finds and sends them again
 *                                               (a duplicate the consumer's idempotency absorbs,
 *                                               never a loss);
 *   4. mark them seen (with SEEN_HIT_TTL);      crash after 4 → watermark not moved: the next run
 *                                               re-queries the slice, finds them seen, sends nothing;
 *   5. move the watermark to the slice's end (steps 2–4 run per batch of an answer's hits, 5 once
 *      every batch of the answer is recorded).
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
   * An answer's hits are recorded (seen check, send, mark) in batches of this many, in memory:
   * a large answer is never asked for again, and memory holds one batch of hits at a time.
   */
  maxHitsPerSlice: number;
  /**
   * A slice whose answer would hold more rows than this (by the source's count) is cut into
   * pieces under it before any row is downloaded: this bounds the memory of one answer. 0: no count.
   */
  maxRowsPerAnswer: number;
}

export const DEFAULT_HUNT_LIMITS: HuntLimits = {
  minSliceMs: 60_000,
  serverTimeoutInSeconds: 180,
  queryDeadlineMs: 240_000,
  runBudgetMs: 420_000,
  maxHitsPerSlice: 5_000,
  // ~650 bytes a T1608.003 row: ~32 MB of answer, which the LogsQueryClient holds about five times.
  maxRowsPerAnswer: 50_000,
};

export interface HuntLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface HuntDeps {
  /** Where the rows come from: Log Analytics, Splunk or QRadar (shared/hunting/sources). */
  source: HuntSource;
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
  /** Row queries (each slice's answer). */
  queries: number;
  /** Row-count queries that planned the slices (one summarised answer each, no rows). */
  countQueries: number;
  rows: number;
  hits: number;
  /** Hits sent on (not seen before). */
  newHits: number;
  /** New hits that fit no queue message and went to the dead-letter queue (logged). */
  deadLetters: number;
  problems: string[];
}

const silent: HuntLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Lateness of the clocks that stamp ingestion and seen marks: a slice's seen check reads marks made since its start less this. */
const SEEN_CLOCK_MARGIN_MS = 15 * 60_000;

/** What one run works with, worked out once. */
interface RunContext {
  detection: Detection;
  deps: HuntDeps;
  limits: HuntLimits;
  log: HuntLogger;
  now: Date;
  startedAt: number;
  adHoc: boolean;
  params: Record<string, unknown>;
  /** The detection's own lookback, so the query's TimeGenerated guard is inside the API timespan. */
  guardMs: number;
  result: DetectionRunResult;
  watermark: Watermark | undefined;
  handledAny: boolean;
}

export async function huntDetection(detection: Detection, deps: HuntDeps, options: HuntRunOptions = {}): Promise<DetectionRunResult> {
  const id = detection.meta.id;
  const log = deps.log ?? silent;
  const now = (deps.now ?? (() => new Date()))();
  const result: DetectionRunResult = { detectionId: id, status: 'ok', queries: 0, countQueries: 0, rows: 0, hits: 0, newHits: 0, deadLetters: 0, problems: [] };
  const adHoc = options.sinceMs !== undefined;
  let watermark: Watermark | undefined;
  try {
    watermark = adHoc ? undefined : await deps.state.getWatermark(id);
  } catch (err) {
    return fail(result, log, 'failed', `${id}: cannot read the watermark: ${errorMessage(err)}`);
  }
  if (watermark) result.watermark = watermark.value.toISOString();
  const window = huntWindow(now, deps.settings, watermark, options.sinceMs);
  if (!window) return result;
  result.window = { start: window.start.toISOString(), end: window.end.toISOString() };

  let params: Record<string, unknown>;
  try {
    params = detectionParams(detection, deps.tuning);
  } catch (err) {
    return markUnhealthy(detection, deps, result, log, now, `invalid parameters: ${errorMessage(err)}`);
  }
  const guardMs = (typeof params.lookback === 'string' ? parseDuration(params.lookback) : undefined) ?? 7 * 86_400_000;
  const run: RunContext = { detection, deps, limits: { ...DEFAULT_HUNT_LIMITS, ...deps.limits }, log, now, startedAt: Date.now(), adHoc, params, guardMs, result, watermark, handledAny: false };

  const stopped = await huntSlices(run, chunks(window.start, window.end, deps.settings.maxWindowMs));
  if (stopped) return stopped;
  if (!adHoc) await housekeeping(run);
  log.info(`${id}: ${result.status}; ${result.queries} queries, ${result.rows} rows, ${result.hits} hits, ${result.newHits} new${result.deadLetters ? `, ${result.deadLetters} dead-lettered` : ''}; watermark ${result.watermark ?? 'none'}`);
  return result;
}

/**
 * [watermark − overlap, now − ingestion delay), the first run from now − initial lookback; an
 * ad-hoc run from now − since. Undefined when the window is empty.
 */
export function huntWindow(now: Date, settings: HuntSettings, watermark: Watermark | undefined, sinceMs?: number): QueryWindow | undefined {
  const end = new Date(now.getTime() - settings.ingestionDelayMs);
  const start =
    sinceMs !== undefined
      ? new Date(now.getTime() - sinceMs)
      : watermark
        ? new Date(watermark.value.getTime() - settings.overlapMs)
        : new Date(now.getTime() - settings.initialLookbackMs);
  return start.getTime() < end.getTime() ? { start, end } : undefined;
}

/**
 * The slices in time order; a slice the service could not answer whole (cut, partial, timed out)
 * is replaced by its two halves. Returns the run's result when the run has to stop for good.
 */
async function huntSlices(run: RunContext, pending: PendingSlice[]): Promise<DetectionRunResult | undefined> {
  const { result, log, limits } = run;
  const id = run.detection.meta.id;
  let ahead: { slice: PendingSlice; prepared: Promise<Prepared> } | undefined;
  while (pending.length > 0) {
    if (Date.now() - run.startedAt > limits.runBudgetMs) {
      result.status = 'incomplete';
      result.problems.push(`${id}: run budget spent; the rest of the window is left for the next run`);
      log.warn(result.problems[result.problems.length - 1] as string);
      return undefined;
    }
    const slice = pending.shift() as PendingSlice;
    const prepared = ahead?.slice === slice ? ahead.prepared : prepareSlice(run, slice);
    ahead = undefined;
    let rows: Iterable<Row>;
    try {
      const answer = await prepared;
      if ('pieces' in answer) {
        pending.unshift(...answer.pieces);
        continue;
      }
      rows = answer.rows;
    } catch (err) {
      const span = slice.end.getTime() - slice.start.getTime();
      if ((err instanceof ResultTooLargeError || err instanceof PartialResultError || err instanceof QueryTimeoutError) && span >= 2 * limits.minSliceMs) {
        const mid = new Date(slice.start.getTime() + Math.floor(span / 2));
        log.warn(`${id}: ${err.message}; splitting ${slice.start.toISOString()}..${slice.end.toISOString()} in halves`);
        pending.unshift({ start: slice.start, end: mid }, { start: mid, end: slice.end });
        continue;
      }
      if (err instanceof QueryRejectedError || err instanceof ValidationError) return markUnhealthy(run.detection, run.deps, result, log, run.now, errorMessage(err));
      const what = err instanceof ResultTooLargeError ? `${errorMessage(err)} even in a ${Math.round(span / 1000)} s slice; narrow the detection` : errorMessage(err);
      return fail(result, log, run.handledAny ? 'incomplete' : 'failed', `${id}: ${what}; watermark kept at ${result.watermark ?? 'none'}`);
    }
    ahead = lookAhead(run, pending[0]);
    try {
      await handleAnswer(run, slice, rows);
    } catch (err) {
      if (err instanceof ValidationError) return markUnhealthy(run.detection, run.deps, result, log, run.now, errorMessage(err));
      const why = err instanceof WatermarkConflictError ? err.message : `${id}: cannot record hits: ${errorMessage(err)}`;
      return fail(result, log, run.handledAny ? 'incomplete' : 'failed', why);
    }
  }
  return undefined;
}

/** A slice still to do; planned: its row count is known to be under maxRowsPerAnswer (or it cannot be cut). */
interface PendingSlice extends QueryWindow {
  planned?: boolean;
}

/**
 * 0. ask the source how many rows the slice's answer holds per bin; the pieces to do instead
 * when it is over maxRowsPerAnswer, undefined to query it as it is.
 */
async function planSlice(run: RunContext, slice: QueryWindow): Promise<PendingSlice[] | undefined> {
  const { source } = run.deps;
  const { maxRowsPerAnswer, minSliceMs } = run.limits;
  if (!source.countRows || maxRowsPerAnswer <= 0) return undefined;
  run.result.countQueries++;
  const bins = await source.countRows(sliceQuery(run, slice), minSliceMs);
  const pieces = piecesUnder(slice, bins, maxRowsPerAnswer, minSliceMs);
  if (pieces) run.log.info(`${run.detection.meta.id}: ${bins.reduce((n, b) => n + b.rows, 0)} rows in ${slice.start.toISOString()}..${slice.end.toISOString()}; querying it in ${pieces.length} pieces`);
  return pieces;
}

/**
 * The slice cut into pieces of at most maxRows rows on the bins' boundaries (a bin is never cut,
 * so a bin over maxRows is a piece of its own), or undefined when the slice is under maxRows.
 * Bins without a start (the service could not say when their rows were ingested) give equal
 * pieces of at least minSliceMs, each counted again.
 */
export function piecesUnder(slice: QueryWindow, bins: readonly RowBin[], maxRows: number, minSliceMs: number): PendingSlice[] | undefined {
  const total = bins.reduce((n, b) => n + b.rows, 0);
  if (total <= maxRows) return undefined;
  const from = slice.start.getTime();
  const to = slice.end.getTime();
  if (bins.some((b) => !b.start)) {
    const k = Math.min(Math.ceil(total / maxRows), Math.floor((to - from) / minSliceMs));
    if (k < 2) return undefined;
    return Array.from({ length: k }, (_, i) => ({ start: new Date(from + Math.floor(((to - from) * i) / k)), end: new Date(from + Math.floor(((to - from) * (i + 1)) / k)) }));
  }
  const sorted = [...bins].sort((a, b) => (a.start as Date).getTime() - (b.start as Date).getTime());
  const pieces: PendingSlice[] = [];
  let pieceStart = from;
  let rows = 0;
  for (const bin of sorted) {
    const binStart = Math.min(Math.max((bin.start as Date).getTime(), from), to);
    if (rows > 0 && rows + bin.rows > maxRows && binStart > pieceStart) {
      pieces.push({ start: new Date(pieceStart), end: new Date(binStart), planned: true });
      pieceStart = binStart;
      rows = 0;
    }
    rows += bin.rows;
  }
  pieces.push({ start: new Date(pieceStart), end: slice.end, planned: true });
  return pieces.length > 1 ? pieces : undefined;
}

/** A slice made ready: cut into pieces to do instead, or its answer. */
type Prepared = { pieces: PendingSlice[] } | { rows: Iterable<Row> };

/** 0 and 1 for one slice: planned by row count and, unless that cut it, queried. */
async function prepareSlice(run: RunContext, slice: PendingSlice): Promise<Prepared> {
  const pieces = slice.planned ? undefined : await planSlice(run, slice);
  return pieces ? { pieces } : { rows: await querySlice(run, slice) };
}

/**
 * The next slice is planned and queried while this one's hits are recorded, so the storage round
 * trips overlap the next query. Only reading starts early: its errors are acted on in its turn,
 * and recording (seen check → send → mark → watermark) stays one slice after another, in order.
 */
function lookAhead(run: RunContext, next: PendingSlice | undefined): { slice: PendingSlice; prepared: Promise<Prepared> } | undefined {
  if (!next || Date.now() - run.startedAt > run.limits.runBudgetMs) return undefined;
  const prepared = prepareSlice(run, next);
  prepared.catch(() => {}); // handled when its turn comes (or dropped with the run)
  return { slice: next, prepared };
}

/** 1. query the slice through the source (its typed errors tell the caller what to do). */
async function querySlice(run: RunContext, slice: QueryWindow): Promise<Iterable<Row>> {
  run.result.queries++;
  return run.deps.source.rows(sliceQuery(run, slice));
}

function sliceQuery(run: RunContext, slice: QueryWindow): SliceQuery {
  const { limits } = run;
  return {
    detection: run.detection,
    params: run.params,
    slice,
    lookbackMs: run.guardMs,
    now: run.now,
    serverTimeoutInSeconds: limits.serverTimeoutInSeconds,
    // Never past the run budget plus two minutes (the function timeout is ten).
    deadlineMs: Math.max(10_000, Math.min(limits.queryDeadlineMs, limits.runBudgetMs + 120_000 - (Date.now() - run.startedAt))),
  };
}

/**
 * 2–5 for one answer: its hits are taken in batches of maxHitsPerSlice, in memory (the answer is
 * never asked for again), each batch recorded (unseen → send → mark) and let go, so memory holds
 * one batch of hits however large the answer; the watermark moves once the whole answer is recorded.
 */
async function handleAnswer(run: RunContext, slice: QueryWindow, rows: Iterable<Row>): Promise<void> {
  const keys = new Set<string>();
  let batch: Hit[] = [];
  for (const hit of hitsOf(run, rows, keys)) {
    batch.push(hit);
    if (batch.length >= run.limits.maxHitsPerSlice) {
      await recordHits(run, slice, batch);
      batch = [];
    }
  }
  await recordHits(run, slice, batch);
  if (!run.adHoc) await moveWatermark(run, slice);
  run.handledAny = true;
}

/** The answer's rows → hits, one per key (a row can repeat in an answer), projected columns only. */
function* hitsOf(run: RunContext, rows: Iterable<Row>, keys: Set<string>): Generator<Hit> {
  const { detection, params, result } = run;
  const id = detection.meta.id;
  for (const row of rows) {
    result.rows++;
    // What hitFromRow does, with the parameters parsed once per run instead of once per row.
    // A session without a certificate the query marked (SessionWithoutCertificate) goes on too:
    // the threat grouping attributes it to its endpoint's threat (shared/threats/).
    const e = detection.evaluate(row, params) ?? detection.evaluateRelated?.(row, params);
    if (!e || keys.has(e.key)) continue;
    keys.add(e.key);
    const hit: Hit = { detectionId: id, key: e.key, time: e.time, row, signals: e.signals, indicators: e.indicators, entities: e.entities };
    if (e.certificate) hit.certificate = e.certificate;
    result.hits++;
    yield hit;
  }
}

/**
 * 2. keep the hits not seen (one query for the slice), 3. send them, 4. mark them seen.
 * An ad-hoc window (--since) shows everything in it and leaves the state alone.
 */
async function recordHits(run: RunContext, slice: QueryWindow, hits: Hit[]): Promise<void> {
  if (hits.length === 0) return;
  const { deps, result, now } = run;
  const id = run.detection.meta.id;
  const newHits = run.adHoc ? hits : await unseenHits(run, slice, hits);
  const dead = await deps.sink.send(newHits); // 3. send (dead letters are accepted too: with their reason)
  for (const d of dead ?? []) run.log.warn(`${id}: ${describeDeadLetter(d)}`);
  result.deadLetters += dead?.length ?? 0;
  if (!run.adHoc) await deps.seen.markSeen(id, newHits.map((h) => h.key), now, deps.settings.seenHitTtlMs); // 4. mark seen
  result.newHits += newHits.length;
}

async function unseenHits(run: RunContext, slice: QueryWindow, hits: Hit[]): Promise<Hit[]> {
  const keys = hits.map((h) => h.key);
  const fresh = await run.deps.seen.unseen(run.detection.meta.id, keys, run.now, new Date(slice.start.getTime() - SEEN_CLOCK_MARGIN_MS));
  // Keys are unique within an answer, so as many fresh keys as hits means every hit is new.
  if (fresh.length === keys.length) return hits;
  const freshSet = new Set(fresh);
  return hits.filter((h) => freshSet.has(h.key));
}

/** 5. move the watermark to the slice's end (conditional on the version read). */
async function moveWatermark(run: RunContext, slice: QueryWindow): Promise<void> {
  if (run.watermark && slice.end.getTime() <= run.watermark.value.getTime()) return;
  run.watermark = await run.deps.state.setWatermark(run.detection.meta.id, slice.end, run.watermark);
  run.result.watermark = run.watermark.value.toISOString();
}

async function housekeeping(run: RunContext): Promise<void> {
  const id = run.detection.meta.id;
  try {
    // Independent writes: side by side.
    await Promise.all([
      run.deps.state.setHealth(id, { healthy: true, checkedAt: run.now.toISOString(), lastSuccessAt: run.now.toISOString() }),
      run.deps.seen.purgeExpired(id, run.now, 500),
    ]);
  } catch (err) {
    run.result.problems.push(`${id}: housekeeping failed: ${errorMessage(err)}`);
    run.log.warn(run.result.problems[run.result.problems.length - 1] as string);
  }
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

