import type { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import type { Hit } from '../model.js';
import { findingId } from '../scoring/finding.js';
import { findingThreatFields } from '../threats/finding-fields.js';
import type { Tuning } from '../scoring/tuning.js';
import { EnrichLedger } from '../state/enrich-ledger.js';
import { enqueueFinding } from '../state/findings-queue.js';
import { parseHitMessages } from '../state/hit-queue.js';
import { deadLetterQueueName, describeDeadLetter } from '../state/queue-message.js';
import { ENRICH_LEDGER_TABLE, QUEUE_NAMES } from '../state/queue-encoding.js';
import { requireStorage } from '../state/storage.js';
import { type HitEnricher, findingForHit, retryableMissing } from './enrich-and-score.js';
import { enrichDepsFromConfig } from './enrich-deps.js';
import type { UseCaseLog } from './log.js';

/**
 * Enrich a hit message (queue "hits" → queue "findings"). A message carries a group of hits
 * (`{"hits": [...]}`, see shared/state/hit-queue.ts) or one bare hit. From a timer hunt each hit
 * stands for one threat (its strongest row with the ThreatAggregate) and becomes one finding. Idempotent under
 * redelivery through the enrich ledger (shared/state/enrich-ledger.ts).
 */
export interface EnrichHitsDeps {
  enricher: HitEnricher;
  tuning: Tuning;
  findings: QueueClient;
  ledger: TableClient;
  /** "findings-deadletter": a finding no message can hold goes there with its reason. */
  deadLetters?: QueueClient;
  now?: () => Date;
}

/** Throws ValidationError (naming the hit's field) for a bad message, so it ends in the poison queue. */
export async function enrichHitMessage(message: unknown, deps: EnrichHitsDeps, log: UseCaseLog): Promise<void> {
  const hits = parseHitMessages(message);
  const ledger = await EnrichLedger.open(deps.ledger);
  // A message's hits are enriched side by side: the enricher bounds the crt.sh calls and shares
  // one lookup per domain, so a group costs about what its distinct domains cost. One failure
  // does not stop the others; the message then fails and its redelivery skips the enqueued ones.
  const outcomes = await Promise.allSettled(hits.map((hit) => enrichOneHit(hit, ledger, deps, log)));
  const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed.length === 1) throw failed[0]?.reason;
  if (failed.length > 1) throw new AggregateError(failed.map((f) => f.reason), `enrich-hits: ${failed.length} of ${hits.length} hits failed`);
}

async function enrichOneHit(hit: Hit, ledger: EnrichLedger, deps: EnrichHitsDeps, log: UseCaseLog): Promise<void> {
  const now = deps.now ?? (() => new Date());
  // The finding id comes from the hit (its threat and rows) alone, so a redelivered hit is recognised before it is enriched again.
  const id = findingThreatFields(hit, findingId(hit)).id;
  if (await ledger.has(id)) {
    log.info(`enrich-hits: finding ${id} was already enqueued; redelivery acknowledged`);
    return;
  }
  const finding = await findingForHit(hit, { ...deps, now });
  const dead = await enqueueFinding(deps.findings, finding, deps.deadLetters);
  if (dead) log.warn(`enrich-hits: ${describeDeadLetter(dead)}`);
  await ledger.record(finding.id, hit.detectionId, now());
  const missing = retryableMissing(finding);
  log.info(`enrich-hits: finding ${finding.id} (${finding.level}, score ${finding.score})${missing.length ? `; missing ${missing.join(', ')}` : ''}`);
}

/** Production wiring from the settings (state storage is required). */
export function enrichHitsDeps(config: Config, credential: TokenCredential): EnrichHitsDeps {
  const storage = requireStorage(config, credential);
  return {
    ...enrichDepsFromConfig(config, credential),
    findings: storage.queue(QUEUE_NAMES.findings),
    ledger: storage.table(ENRICH_LEDGER_TABLE),
    deadLetters: storage.queue(deadLetterQueueName(QUEUE_NAMES.findings)),
  };
}
