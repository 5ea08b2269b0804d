import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import { type Deliverer, type DeliveryReport, delivererFromConfig } from '../delivery/deliverer.js';
import { redact } from '../redact.js';
import { DELIVERY_TABLE, tableLedger } from '../state/delivery-ledger.js';
import { FINDINGS_POISON_QUEUE, sendToPoison } from '../state/poison-queue.js';
import { requireStorage } from '../state/storage.js';
import type { UseCaseLog } from './log.js';

/**
 * Post the Teams cards the deliver function left pending: more than DIGEST_THRESHOLD pending → one
 * digest card, otherwise one card per finding. A failed post stays pending (and claimed) for the
 * next run; the run then throws, so it shows in Application Insights. A card Teams rejects (4xx),
 * or one that failed DELIVERY_MAX_ATTEMPTS runs, goes to findings-poison with its reason, as the
 * incident webhook's failures do.
 */
export interface TeamsDigestDeps {
  deliverer: Deliverer;
  /** Where a Teams delivery that is given up goes (rejected by Teams, or DELIVERY_MAX_ATTEMPTS failed runs). */
  poisonQueue: QueueClient;
}

export async function sendPendingTeams(deps: TeamsDigestDeps, log: UseCaseLog): Promise<DeliveryReport> {
  const report = await deps.deliverer.sendPendingTeams({ log: (level, m) => (level === 'warn' ? log.warn(m) : log.info(m)) });
  if (report.findings > 0 || report.notConfigured.length > 0) {
    log.info(
      `teams-digest: ${report.findings} pending, ${report.posted} card(s) posted${report.digest ? ' (digest)' : ''}, ${report.skipped} already posted, ${report.failed} failed` +
        (report.notConfigured.length > 0 ? `; not configured: ${report.notConfigured.join(', ')}` : ''),
    );
  }
  for (const given of report.results.filter((r) => r.poisoned)) {
    const reason = `teams: ${given.error ?? 'failed'}`;
    const failures = [{ destination: 'teams', error: given.error ?? 'failed', permanent: Boolean(given.permanent) }];
    const body = await sendToPoison(deps.poisonQueue, { reason, dequeueCount: given.runs ?? 1, failures, deliveryId: given.deliveryId, findingIds: given.findingIds ?? [] });
    log.warn(`teams-digest: ${given.deliveryId} moved to ${FINDINGS_POISON_QUEUE}: ${body.reason}`);
  }
  const failed = report.results.filter((r) => r.status === 'failed' && !r.poisoned);
  if (failed.length > 0) throw new Error(`teams-digest: ${failed.map((f) => `${f.deliveryId}: ${redact(f.error ?? 'failed')}`).join('; ')}; left pending for the next run`);
  return report;
}

/** Production wiring: the delivery ledger in Table Storage; no Sentinel credential (only Teams cards are posted). */
export function teamsDigestDeps(config: Config, credential: TokenCredential): TeamsDigestDeps {
  const storage = requireStorage(config, credential);
  const ledger = tableLedger(storage.table(DELIVERY_TABLE));
  return { deliverer: delivererFromConfig(config, undefined, { ledger, pendingTeams: ledger }), poisonQueue: storage.queue(FINDINGS_POISON_QUEUE) };
}
