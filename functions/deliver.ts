import { app, type InvocationContext } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import type { Deliverer, DeliveryReport } from '../shared/delivery/deliverer.js';
import { problemsFromZod } from '../shared/errors.js';
import type { Finding } from '../shared/model.js';
import { errorMessage, redact } from '../shared/redact.js';
import { FINDINGS_POISON_QUEUE, type PoisonMessage, sendToPoison } from '../shared/state/poison-queue.js';
import { decodeQueueMessage } from '../shared/state/queue-encoding.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Queue "findings" → incident webhook, Sentinel write-back, and a pending Teams card: one message
 * is one finding, so the card waits in the ledger for the teams-digest timer, which posts one card
 * each or one digest card above DIGEST_THRESHOLD (see shared/delivery/deliverer.ts). A suppressed finding is
 * handled by the Deliverer exactly as in the CLI: not posted to the webhooks, recorded in the
 * ledger and logged with its rule; its Sentinel incident (if any) still gets the comment, never a
 * higher severity. Retries with backoff run inside one invocation (DELIVERY_MAX_ATTEMPTS per destination); when a destination still fails,
 * the message goes to "findings-poison" with the (redacted) reason and the invocation succeeds,
 * so the host does not redeliver it. The ledger makes a redelivery (host retry after a crash,
 * a requeued poison message) skip every destination already posted.
 */

export const FINDINGS_QUEUE = 'findings';
export { FINDINGS_POISON_QUEUE, type PoisonMessage };

export interface DeliverDeps {
  deliverer: Deliverer;
  poisonQueue: QueueClient;
  /** DELIVERY_MAX_ATTEMPTS: also the most times a message may be dequeued before it is poisoned. */
  maxAttempts: number;
}


export function makeDeliverHandler(getDeps: () => DeliverDeps | Promise<DeliverDeps>) {
  return async function deliverFinding(message: unknown, context: InvocationContext): Promise<void> {
    const deps = await getDeps();
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const poison = async (p: Omit<PoisonMessage, 'failedAt' | 'dequeueCount'>) => {
      const body = await sendToPoison(deps.poisonQueue, { ...p, dequeueCount });
      context.warn(`deliver: moved to ${FINDINGS_POISON_QUEUE}: ${body.reason}`);
    };

    let raw: unknown = message;
    try {
      if (typeof raw === 'string') raw = decodeQueueMessage(raw);
    } catch (err) {
      await poison({ reason: `message is not JSON: ${errorMessage(err)}`, failures: [] });
      return;
    }
    const { deliverableFindingSchema } = await import('../shared/delivery/finding-schema.js');
    const parsed = deliverableFindingSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = problemsFromZod(parsed.error.issues).map((p) => `${p.path}: ${p.message}`);
      await poison({ reason: `not a finding: ${problems.slice(0, 5).join('; ')}`, failures: [], finding: raw });
      return;
    }
    const finding = parsed.data as unknown as Finding;
    if (dequeueCount > deps.maxAttempts) {
      await poison({ reason: `dequeued ${dequeueCount} times without completing (limit ${deps.maxAttempts})`, failures: [], finding });
      return;
    }

    const log = (level: 'info' | 'warn', m: string) => (level === 'warn' ? context.warn(redact(m)) : context.log(redact(m)));
    const report: DeliveryReport = await deps.deliverer.deliver([finding], { log });
    const failed = report.results.filter((r) => r.status === 'failed');
    context.log(
      `deliver ${finding.id}: ${report.posted} posted, ${report.skipped} already posted, ${failed.length} failed` +
        (report.pending > 0 ? `, ${report.pending} Teams card left for the teams-digest timer` : '') +
        (report.suppressed.length > 0 ? `, ${report.suppressed.length} suppressed (not sent to the webhooks)` : '') +
        (report.notConfigured.length > 0 ? `; not configured: ${report.notConfigured.join(', ')}` : ''),
    );
    if (failed.length > 0) {
      await poison({
        reason: failed.map((f) => `${f.destination}: ${f.error ?? 'failed'}`).join('; '),
        failures: failed.map((f) => ({ destination: f.destination, error: f.error ?? 'failed', permanent: Boolean(f.permanent) })),
        finding,
      });
    }
  };
}

/** Production wiring: settings, Table ledger, poison queue, managed identity for ARM (loaded on first use). */
async function depsFromEnvironment(): Promise<DeliverDeps> {
  const [{ loadConfig }, { delivererFromConfig }, { DELIVERY_TABLE, tableLedger }, { requireStorage }] = await Promise.all([
    import('../shared/config.js'),
    import('../shared/delivery/deliverer.js'),
    import('../shared/state/delivery-ledger.js'),
    import('../shared/state/storage.js'),
  ]);
  const config = loadConfig(process.env);
  const credential = await appCredential();
  const storage = requireStorage(config, credential);
  const ledger = tableLedger(storage.table(DELIVERY_TABLE));
  return {
    deliverer: delivererFromConfig(config, credential, { ledger, pendingTeams: ledger }),
    poisonQueue: storage.queue(FINDINGS_POISON_QUEUE),
    maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
  };
}

const productionDeps = buildOnce(depsFromEnvironment);

app.storageQueue('deliver', {
  queueName: FINDINGS_QUEUE,
  connection: 'STATE_STORAGE_CONNECTION',
  handler: makeDeliverHandler(productionDeps),
});
