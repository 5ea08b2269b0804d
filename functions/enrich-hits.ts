import { type InvocationContext, app } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import type { Enricher } from '../shared/enrichment/enricher.js';
import type { Tuning } from '../shared/scoring/tuning.js';
import { ENRICH_LEDGER_TABLE, QUEUE_NAMES } from '../shared/state/queue-encoding.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Queue "hits" → enrich and score → queue "findings". A message carries a group of hits
 * (`{"hits": [...]}`, see shared/state/hit-queue.ts) or one bare hit; each is handled in turn.
 * From a timer hunt each hit stands for one threat (its strongest row with the ThreatAggregate:
 * occurrences, event times, sources, update of a known threat) and becomes one finding.
 * Idempotent under redelivery: a ledger row (table `enrichledger`, PartitionKey = first two hex
 * digits of the finding id, RowKey = finding id) is written after the finding is enqueued; a
 * redelivered hit whose finding is in the ledger is acknowledged without enqueuing again. A crash
 * between enqueue and ledger write can still enqueue twice; the finding id is stable, so the
 * delivery stage drops the repeat. The enricher, scorer and storage clients load on first use.
 */
export interface EnrichHitsDeps {
  enricher: Enricher;
  tuning: Tuning;
  findings: QueueClient;
  ledger: TableClient;
  /** "findings-deadletter": a finding no message can hold goes there with its reason. */
  deadLetters?: QueueClient;
  now?: () => Date;
}

export function makeEnrichHitsHandler(getDeps: () => EnrichHitsDeps | Promise<EnrichHitsDeps>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const [deps, { parseHitMessages }, { makeFinding }, { ensureTable }, { enqueueFinding }, { describeDeadLetter }] = await Promise.all([
      getDeps(),
      import('../shared/state/hit-queue.js'),
      import('../shared/scoring/finding.js'),
      import('../shared/state/storage.js'),
      import('../shared/state/findings-queue.js'),
      import('../shared/state/queue-message.js'),
    ]);
    const hits = parseHitMessages(message);
    const now = deps.now ?? (() => new Date());
    const ledger = await ensureTable(deps.ledger);
    // A message's hits are enriched side by side: the enricher bounds the crt.sh calls and shares
    // one lookup per domain, so a group costs about what its distinct domains cost. One failure
    // does not stop the others; the message then fails and its redelivery skips the enqueued ones.
    const outcomes = await Promise.allSettled(
      hits.map(async (hit) => {
        const finding = makeFinding(hit, await deps.enricher.enrich(hit), deps.tuning, now());
        const partitionKey = finding.id.slice(0, 2);
        if (await alreadyEnqueued(ledger, partitionKey, finding.id)) {
          context.log(`enrich-hits: finding ${finding.id} was already enqueued; redelivery acknowledged`);
          return;
        }
        const dead = await enqueueFinding(deps.findings, finding, deps.deadLetters);
        if (dead) context.warn(`enrich-hits: ${describeDeadLetter(dead)}`);
        await ledger.upsertEntity({ partitionKey, rowKey: finding.id, detectionId: hit.detectionId, enqueuedAt: now() }, 'Replace');
        const missing = finding.enrichment.missing.filter((m) => m.retryable).map((m) => m.source);
        context.log(`enrich-hits: finding ${finding.id} (${finding.level}, score ${finding.score})${missing.length ? `; missing ${missing.join(', ')}` : ''}`);
      }),
    );
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed.length === 1) throw failed[0]?.reason;
    if (failed.length > 1) throw new AggregateError(failed.map((f) => f.reason), `enrich-hits: ${failed.length} of ${hits.length} hits failed`);
  };
}

async function alreadyEnqueued(ledger: TableClient, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await ledger.getEntity(partitionKey, rowKey);
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

const depsFromSettings = buildOnce(async (): Promise<EnrichHitsDeps> => {
  const [{ loadConfig }, { enricherFromConfig }, { tuningFromConfig }, { requireStorage }, { deadLetterQueueName }] = await Promise.all([
    import('../shared/config.js'),
    import('../shared/enrichment/enricher.js'),
    import('../shared/scoring/tuning.js'),
    import('../shared/state/storage.js'),
    import('../shared/state/queue-message.js'),
  ]);
  const config = loadConfig();
  const tuning = tuningFromConfig(config);
  const credential = await appCredential();
  const storage = requireStorage(config, credential);
  return {
    enricher: enricherFromConfig(config, credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers }),
    tuning,
    findings: storage.queue(QUEUE_NAMES.findings),
    ledger: storage.table(ENRICH_LEDGER_TABLE),
    deadLetters: storage.queue(deadLetterQueueName(QUEUE_NAMES.findings)),
  };
});

app.storageQueue('enrichHits', { queueName: QUEUE_NAMES.hits, connection: 'STATE_STORAGE_CONNECTION', handler: makeEnrichHitsHandler(depsFromSettings) });
