import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import { withAlertHits } from '../detections/sentinel-custom-details.js';
import { ValidationError } from '../errors.js';
import type { Finding } from '../model.js';
import { type ParsedRequest, parseEnrichRequest } from '../observables.js';
import { errorMessage } from '../redact.js';
import { qradarHttp } from '../siem/connections.js';
import { type QradarIntake, qradarIntake } from '../siem/qradar-intake.js';
import { isQradarOffenseRef, parseQradarOffenseRef } from '../siem/qradar-offense.js';
import type { Tuning } from '../scoring/tuning.js';
import { enqueueFinding } from '../state/findings-queue.js';
import { describeDeadLetter } from '../state/queue-message.js';
import { QUEUE_NAMES } from '../state/queue-encoding.js';
import { storageClients } from '../state/storage.js';
import { tooDeepAt } from '../text/json-depth.js';
import { jsonSyntaxProblem } from '../text/json-syntax.js';
import { type HitEnricher, findingForHit, retryableMissing } from './enrich-and-score.js';
import { enrichDepsFromConfig } from './enrich-deps.js';
import type { UseCaseLog } from './log.js';

/**
 * Enrich a request (POST /api/enrich): bounded JSON text (a Sentinel incident-trigger payload, a
 * Splunk alert, a QRadar offense reference, a hunt hit {detectionId, row}, or a bare observable) → enriched, scored findings,
 * within a request-wide deadline. crt.sh being down never fails the request: each finding lists
 * what is missing. Past the deadline the lookups still running stop and the answer says partial.
 */
export interface EnrichRequestDeps {
  enricher: HitEnricher;
  tuning: Tuning;
  maxBodyBytes: number;
  /** ENRICH_MAX_JSON_DEPTH */
  maxJsonDepth: number;
  /** ENRICH_DEADLINE */
  deadlineMs: number;
  /** The "findings" queue, when state storage is configured: findings from an incident go there for write-back. */
  findings?: QueueClient;
  /** Reads QRadar offenses (`{offense_id}` requests); absent when QRADAR_URL/QRADAR_TOKEN are not set. */
  qradar?: QradarIntake;
  now?: () => Date;
}

export interface EnrichRequestResult {
  findings: Finding[];
  skipped: ParsedRequest['skipped'];
  /** Present (true) when the deadline passed: some lookups stopped, or some hits were not enriched. */
  partial?: true;
  writeBack?: { queued: number; failed: number };
}

/** After the deadline, how long the lookups that were told to stop get to wind down. */
const WIND_DOWN_MS = 2_000;

/** `text` is the request body, already read within maxBodyBytes. Bad input throws ValidationError naming the field. */
export async function enrichRequest(text: string, deps: EnrichRequestDeps, log: UseCaseLog): Promise<EnrichRequestResult> {
  const now = deps.now ?? (() => new Date());
  const { hits, skipped } = await hitsOfRequest(parseRequestJson(text, deps.maxJsonDepth), deps, now());
  const { findings, late, partial } = await withinDeadline(hits, deps, now);
  if (partial) log.warn(`enrich: the ${deps.deadlineMs} ms deadline passed; answering partial findings`);
  const missing = [...new Set(findings.flatMap(retryableMissing))];
  if (missing.length > 0) log.warn(`enrich: enrichment missing, retryable: ${missing.join(', ')}`);
  const writeBack = await queueForWriteBack(findings, deps.findings, log);
  return { findings, skipped: [...skipped, ...late], ...(partial ? { partial: true as const } : {}), ...(writeBack ? { writeBack } : {}) };
}

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

/** Each hit through the one enrich-then-score step, until the deadline (then WIND_DOWN_MS more). */
async function withinDeadline(hits: ParsedRequest['hits'], deps: EnrichRequestDeps, now: () => Date) {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deps.deadlineMs);
  const done: Array<Finding | undefined> = new Array(hits.length);
  try {
    const work = Promise.all(hits.map(async (hit, i) => void (done[i] = await findingForHit(hit, { ...deps, now }, { signal: deadline.signal }))));
    await Promise.race([work, windDown(deadline.signal)]);
  } finally {
    clearTimeout(timer);
  }
  const late = hits.flatMap((_hit, i) => (done[i] ? [] : [{ path: `hits[${i}]`, reason: 'not enriched before the request deadline' }]));
  return { findings: done.filter((f): f is Finding => f !== undefined), late, partial: deadline.signal.aborted };
}

/** Resolves WIND_DOWN_MS after the signal aborts (never before). */
function windDown(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, WIND_DOWN_MS).unref(), { once: true }));
}

/**
 * Findings from a Sentinel incident (the automation-rule path) go to the "findings" queue, where
 * deliver comments on the incident and raises its severity. The caller still gets its findings
 * when the queue is down; the answer says which were not queued, so the playbook can retry.
 */
async function queueForWriteBack(findings: Finding[], queue: QueueClient | undefined, log: UseCaseLog): Promise<{ queued: number; failed: number } | undefined> {
  const fromIncident = findings.filter((f) => f.hit.incident?.armId);
  if (!queue || fromIncident.length === 0) return undefined;
  let failed = 0;
  for (const finding of fromIncident) {
    try {
      const dead = await enqueueFinding(queue, finding);
      if (dead) throw new Error(describeDeadLetter(dead));
    } catch (err) {
      failed += 1;
      log.warn(`enrich: finding ${finding.id} not queued for incident write-back: ${errorMessage(err)}`);
    }
  }
  return { queued: fromIncident.length - failed, failed };
}

/** Production wiring from the settings; the findings queue only when state storage is configured. */
export function enrichRequestDeps(config: Config, credential: TokenCredential): EnrichRequestDeps {
  const storage = storageClients(config, credential);
  const qradar = qradarHttp(config);
  return {
    ...enrichDepsFromConfig(config, credential),
    maxBodyBytes: config.ENRICH_MAX_BODY_BYTES,
    maxJsonDepth: config.ENRICH_MAX_JSON_DEPTH,
    deadlineMs: config.ENRICH_DEADLINE,
    ...(storage ? { findings: storage.queue(QUEUE_NAMES.findings) } : {}),
    ...(qradar ? { qradar: qradarIntake(qradar) } : {}),
  };
}
