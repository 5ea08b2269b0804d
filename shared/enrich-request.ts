import type { Enricher } from './enrichment/enricher.js';
import { ValidationError } from './errors.js';
import type { Finding } from './model.js';
import { withAlertHits } from './detections/sentinel-custom-details.js';
import { type ParsedRequest, parseEnrichRequest } from './observables.js';
import type { QradarIntake } from './siem/qradar-intake.js';
import { isQradarOffenseRef, parseQradarOffenseRef } from './siem/qradar-offense.js';
import { makeFinding } from './scoring/finding.js';
import type { Tuning } from './scoring/tuning.js';
import { tooDeepAt } from './text/json-depth.js';
import { jsonSyntaxProblem } from './text/json-syntax.js';

/**
 * The POST /api/enrich use-case, without the HTTP host: bounded JSON text → hits → enriched,
 * scored findings, within a request-wide deadline. Past the deadline the crt.sh lookups still
 * running stop (each finding lists what is missing), and the answer says partial.
 */

export interface EnrichRequestDeps {
  enricher: Enricher;
  tuning: Tuning;
  /** ENRICH_MAX_JSON_DEPTH */
  maxJsonDepth: number;
  /** ENRICH_DEADLINE */
  deadlineMs: number;
  now?: () => Date;
  /** Reads QRadar offenses (`{offense_id}` requests); absent when QRADAR_URL/QRADAR_TOKEN are not set. */
  qradar?: QradarIntake;
}

export interface EnrichAnswer {
  findings: Finding[];
  skipped: Array<{ path: string; reason: string }>;
  /** True when the deadline passed: some lookups stopped, or some hits were not enriched. */
  partial: boolean;
}

/** After the deadline, how long the lookups that were told to stop get to wind down. */
const WIND_DOWN_MS = 2_000;

export function parseRequestJson(text: string, maxDepth: number): unknown {
  if (text.trim() === '') throw new ValidationError('invalid request body', [{ path: '', message: 'the body is empty; expected JSON' }]);
  const deep = tooDeepAt(text, maxDepth);
  if (deep !== undefined) throw new ValidationError('invalid request body', [{ path: deep.slice(0, 200), message: `nested deeper than ${maxDepth} levels` }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError('invalid request body', [{ path: '', message: `not JSON: ${jsonSyntaxProblem(err, text)}` }]);
  }
}

export async function enrichRequest(text: string, deps: EnrichRequestDeps): Promise<EnrichAnswer> {
  const now = deps.now ?? (() => new Date());
  const { hits, skipped } = await hitsOfRequest(parseRequestJson(text, deps.maxJsonDepth), deps, now());
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deps.deadlineMs);
  const done: Array<Finding | undefined> = new Array(hits.length);
  try {
    const work = Promise.all(hits.map(async (hit, i) => void (done[i] = makeFinding(hit, await deps.enricher.enrich(hit, { signal: deadline.signal }), deps.tuning, now()))));
    await Promise.race([work, windDown(deadline.signal)]);
  } finally {
    clearTimeout(timer);
  }
  const late = hits.flatMap((_hit, i) => (done[i] ? [] : [{ path: `hits[${i}]`, reason: 'not enriched before the request deadline' }]));
  return { findings: done.filter((f): f is Finding => f !== undefined), skipped: [...skipped, ...late], partial: deadline.signal.aborted };
}

/** The request's hits: a QRadar offense is read through its API; every other envelope is parsed as it is. */
async function hitsOfRequest(body: unknown, deps: EnrichRequestDeps, now: Date): Promise<ParsedRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !isQradarOffenseRef(body as Record<string, unknown>)) {
    // Rules mode: an incident's alert custom details become the detection's own hits (sentinel-custom-details.ts).
    return withAlertHits(body, parseEnrichRequest(body, deps.tuning, now), deps.tuning);
  }
  const ref = parseQradarOffenseRef(body);
  if (!deps.qradar) throw new ValidationError('QRadar is not configured', [{ path: 'offense_id', message: 'QRadar offense references need QRADAR_URL and QRADAR_TOKEN in the function app' }]);
  return deps.qradar.hitsForOffense(ref, deps.tuning, deps.deadlineMs);
}

/** Resolves WIND_DOWN_MS after the signal aborts (never before). */
function windDown(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, WIND_DOWN_MS).unref(), { once: true }));
}
