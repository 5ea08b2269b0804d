import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import { type Deliverer, type DeliveryReport, delivererFromConfig } from '../delivery/deliverer.js';
import { problemsFromZod } from '../errors.js';
import { type Finding, storedFindingSchema } from '../model.js';
import { withThreatFields } from '../threats/finding-fields.js';
import { errorMessage, redact } from '../redact.js';
import { DELIVERY_TABLE, tableLedger } from '../state/delivery-ledger.js';
import { FINDINGS_POISON_QUEUE, type PoisonMessage, sendToPoison } from '../state/poison-queue.js';
import { decodeQueueMessage } from '../state/queue-encoding.js';
import { requireStorage } from '../state/storage.js';
import type { UseCaseLog } from './log.js';

/**
 * Deliver a finding message (queue "findings" → incident webhook, Sentinel write-back, and a
 * pending Teams card for the teams-digest timer). Retries with backoff run inside the Deliverer
 * (DELIVERY_MAX_ATTEMPTS per destination). The poison policy: a message that is not JSON, not a
 * finding, dequeued more than maxAttempts times, or whose destination still fails goes to
 * "findings-poison" with the (redacted) reason and the call succeeds, so the host does not
 * redeliver it (shared/state/poison-queue.ts writes it). The delivery ledger makes a redelivery
 * skip every destination already posted.
 */
export interface DeliverDeps {
  deliverer: Deliverer;
  poisonQueue: QueueClient;
  /** DELIVERY_MAX_ATTEMPTS: also the most times a message may be dequeued before it is poisoned. */
  maxAttempts: number;
}

export type { PoisonMessage };

type Poison = Omit<PoisonMessage, 'failedAt' | 'dequeueCount'>;

export async function deliverFindingMessage(message: unknown, dequeueCount: number, deps: DeliverDeps, log: UseCaseLog): Promise<void> {
  const checked = checkMessage(message, dequeueCount, deps.maxAttempts);
  if ('reason' in checked) return poison(checked, dequeueCount, deps.poisonQueue, log);
  const finding = checked.finding;
  const report = await deps.deliverer.deliver([finding], { log: (level, m) => (level === 'warn' ? log.warn(redact(m)) : log.info(redact(m))) });
  log.info(summary(finding, report));
  const failed = report.results.filter((r) => r.status === 'failed');
  if (failed.length === 0) return;
  await poison(
    {
      reason: failed.map((f) => `${f.destination}: ${f.error ?? 'failed'}`).join('; '),
      failures: failed.map((f) => ({ destination: f.destination, error: f.error ?? 'failed', permanent: Boolean(f.permanent) })),
      finding,
    },
    dequeueCount,
    deps.poisonQueue,
    log,
  );
}

/** The finding the message carries, or why it is poison before any delivery is tried. */
function checkMessage(message: unknown, dequeueCount: number, maxAttempts: number): { finding: Finding } | Poison {
  let raw: unknown = message;
  try {
    if (typeof raw === 'string') raw = decodeQueueMessage(raw);
  } catch (err) {
    return { reason: `message is not JSON: ${errorMessage(err)}`, failures: [] };
  }
  const parsed = storedFindingSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = problemsFromZod(parsed.error.issues).map((p) => `${p.path}: ${p.message}`);
    return { reason: `not a finding: ${problems.slice(0, 5).join('; ')}`, failures: [], finding: raw };
  }
  // A finding queued before threats existed stands for its one row.
  const finding = withThreatFields(parsed.data as Finding);
  if (dequeueCount > maxAttempts) return { reason: `dequeued ${dequeueCount} times without completing (limit ${maxAttempts})`, failures: [], finding };
  return { finding };
}

async function poison(p: Poison, dequeueCount: number, queue: QueueClient, log: UseCaseLog): Promise<void> {
  const body = await sendToPoison(queue, { ...p, dequeueCount });
  log.warn(`deliver: moved to ${FINDINGS_POISON_QUEUE}: ${body.reason}`);
}

function summary(finding: Finding, report: DeliveryReport): string {
  const failed = report.results.filter((r) => r.status === 'failed').length;
  return (
    `deliver ${finding.id}: ${report.posted} posted, ${report.skipped} already posted, ${failed} failed` +
    (report.pending > 0 ? `, ${report.pending} Teams card left for the teams-digest timer` : '') +
    (report.suppressed.length > 0 ? `, ${report.suppressed.length} suppressed (not sent to the webhooks)` : '') +
    (report.notConfigured.length > 0 ? `; not configured: ${report.notConfigured.join(', ')}` : '')
  );
}

/** Production wiring: settings, Table ledger, poison queue, the app's credential for ARM. */
export function deliverDeps(config: Config, credential: TokenCredential): DeliverDeps {
  const storage = requireStorage(config, credential);
  const ledger = tableLedger(storage.table(DELIVERY_TABLE));
  return {
    deliverer: delivererFromConfig(config, credential, { ledger, pendingTeams: ledger }),
    poisonQueue: storage.queue(FINDINGS_POISON_QUEUE),
    maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
  };
}
