import { type InvocationContext, app } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { loadConfig } from '../shared/config.js';
import { type Enricher, enricherFromConfig } from '../shared/enrichment/enricher.js';
import { ValidationError, problemsFromZod } from '../shared/errors.js';
import type { Hit } from '../shared/model.js';
import { makeFinding } from '../shared/scoring/finding.js';
import { type Tuning, tuningFromConfig } from '../shared/scoring/tuning.js';
import { enqueueFinding } from '../shared/state/findings-queue.js';
import { threatAggregateSchema } from '../shared/threats/threat-schema.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';
import { ENRICH_LEDGER_TABLE, QUEUE_NAMES, decodeQueueMessage, ensureTable, requireStorage } from '../shared/state/storage.js';

/**
 * Queue "hits" → enrich and score → queue "findings". A message is one hit, or one threat (its
 * strongest hit with the ThreatAggregate: occurrences, event times, sources, update of a known
 * threat); either way it becomes one finding. Idempotent under redelivery: a ledger row
 * (table `enrichledger`, PartitionKey = first two hex digits of the finding id, RowKey = finding
 * id) is written after the finding is enqueued; a redelivered hit whose finding is in the ledger
 * is acknowledged without enqueuing again. A crash between enqueue and ledger write can still
 * enqueue twice; the finding id is stable, so the delivery stage drops the repeat.
 */
export interface EnrichHitsDeps {
  enricher: Enricher;
  tuning: Tuning;
  findings: QueueClient;
  ledger: TableClient;
  now?: () => Date;
}

const hitSchema = z
  .object({
    detectionId: z.string().min(1),
    key: z.string().min(1),
    time: z.string(),
    row: z.record(z.string(), z.unknown()),
    signals: z.array(z.object({ id: z.string(), points: z.number(), reason: z.string() })),
    indicators: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
    entities: z.object({ domains: z.array(z.string()).default([]) }).loose(),
    // A message from a timer hunt stands for one threat (shared/threats/threat-sink.ts).
    threat: threatAggregateSchema.optional(),
  })
  .loose();

export function makeEnrichHitsHandler(getDeps: () => EnrichHitsDeps | Promise<EnrichHitsDeps>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const deps = await getDeps();
    const now = deps.now ?? (() => new Date());
    const hit = parseHitMessage(message);
    const finding = makeFinding(hit, await deps.enricher.enrich(hit), deps.tuning, now());
    const ledger = await ensureTable(deps.ledger);
    const partitionKey = finding.id.slice(0, 2);
    if (await alreadyEnqueued(ledger, partitionKey, finding.id)) {
      context.log(`enrich-hits: finding ${finding.id} was already enqueued; redelivery acknowledged`);
      return;
    }
    await enqueueFinding(deps.findings, finding);
    await ledger.upsertEntity({ partitionKey, rowKey: finding.id, detectionId: hit.detectionId, enqueuedAt: now() }, 'Replace');
    const missing = finding.enrichment.missing.filter((m) => m.retryable).map((m) => m.source);
    context.log(`enrich-hits: finding ${finding.id} (${finding.level}, score ${finding.score})${missing.length ? `; missing ${missing.join(', ')}` : ''}`);
  };
}

export function parseHitMessage(message: unknown): Hit {
  let value = message;
  if (typeof message === 'string') {
    try {
      value = decodeQueueMessage(message);
    } catch {
      throw new ValidationError('invalid hits message', [{ path: '', message: 'not JSON (nor base64 JSON)' }]);
    }
  }
  const parsed = hitSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError('invalid hits message', problemsFromZod(parsed.error.issues));
  return parsed.data as unknown as Hit;
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
  const config = loadConfig();
  const tuning = tuningFromConfig(config);
  const credential = appCredential();
  const storage = requireStorage(config, credential);
  return {
    enricher: enricherFromConfig(config, credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers }),
    tuning,
    findings: storage.queue(QUEUE_NAMES.findings),
    ledger: storage.table(ENRICH_LEDGER_TABLE),
  };
});

app.storageQueue('enrichHits', { queueName: QUEUE_NAMES.hits, connection: 'STATE_STORAGE_CONNECTION', handler: makeEnrichHitsHandler(depsFromSettings) });
