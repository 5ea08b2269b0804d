import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import { enricherFromConfig } from '../enrichment/enricher.js';
import { ValidationError } from '../errors.js';
import type { Finding } from '../model.js';
import { type ParsedRequest, parseEnrichRequest } from '../observables.js';
import { errorMessage } from '../redact.js';
import { type Tuning, tuningFromConfig } from '../scoring/tuning.js';
import { enqueueFinding } from '../state/findings-queue.js';
import { describeDeadLetter } from '../state/queue-message.js';
import { QUEUE_NAMES } from '../state/queue-encoding.js';
import { storageClients } from '../state/storage.js';
import { type HitEnricher, findingForHit, retryableMissing } from './enrich-and-score.js';
import type { UseCaseLog } from './log.js';

/**
 * Enrich a request (POST /api/enrich): a Sentinel incident-trigger payload, a hunt hit
 * {detectionId, row}, or a bare observable → {findings, skipped}. crt.sh being down never fails
 * the request: each finding lists what is missing and is scored without it.
 */
export interface EnrichRequestDeps {
  enricher: HitEnricher;
  tuning: Tuning;
  maxBodyBytes: number;
  /** The "findings" queue, when state storage is configured: findings from an incident go there for write-back. */
  findings?: QueueClient;
  now?: () => Date;
}

export interface EnrichRequestResult {
  findings: Finding[];
  skipped: ParsedRequest['skipped'];
  writeBack?: { queued: number; failed: number };
}

/** `text` is the request body, already read within maxBodyBytes. Bad input throws ValidationError naming the field. */
export async function enrichRequest(text: string, deps: EnrichRequestDeps, log: UseCaseLog): Promise<EnrichRequestResult> {
  const now = deps.now ?? (() => new Date());
  const { hits, skipped } = parseEnrichRequest(parseJson(text), deps.tuning, now());
  const findings = await Promise.all(hits.map((hit) => findingForHit(hit, { ...deps, now })));
  const missing = [...new Set(findings.flatMap(retryableMissing))];
  if (missing.length > 0) log.warn(`enrich: enrichment missing, retryable: ${missing.join(', ')}`);
  const writeBack = await queueForWriteBack(findings, deps.findings, log);
  return { findings, skipped, ...(writeBack ? { writeBack } : {}) };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new ValidationError('invalid request body', [{ path: '', message: 'the body is empty; expected JSON' }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError('invalid request body', [{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
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
  const tuning = tuningFromConfig(config);
  const storage = storageClients(config, credential);
  return {
    enricher: enricherFromConfig(config, credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers }),
    tuning,
    maxBodyBytes: config.ENRICH_MAX_BODY_BYTES,
    ...(storage ? { findings: storage.queue(QUEUE_NAMES.findings) } : {}),
  };
}
