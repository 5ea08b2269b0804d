import { app, type InvocationContext, type Timer } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import type { Deliverer, DeliveryReport } from '../shared/delivery/deliverer.js';
import { redact } from '../shared/redact.js';
import { FINDINGS_POISON_QUEUE, sendToPoison } from '../shared/state/poison-queue.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Every minute: posts the Teams cards the deliver function left pending. More than
 * DIGEST_THRESHOLD pending → one digest card; otherwise one card per finding. The host runs a timer
 * function as a singleton, so two runs never claim the same entries. A failed post stays pending
 * (and claimed) for the next run; the run then fails, so it shows in Application Insights. A card
 * Teams rejects (4xx), or one that failed DELIVERY_MAX_ATTEMPTS runs, goes to findings-poison with
 * its reason, as the incident webhook's failures do.
 */

export const TEAMS_DIGEST_SCHEDULE = '0 */1 * * * *';

export interface TeamsDigestDeps {
  deliverer: Deliverer;
  /** Where a Teams delivery that is given up goes (rejected by Teams, or DELIVERY_MAX_ATTEMPTS failed runs). */
  poisonQueue: QueueClient;
}

export function makeTeamsDigestHandler(getDeps: () => TeamsDigestDeps | Promise<TeamsDigestDeps>) {
  return async function teamsDigest(_timer: Timer, context: InvocationContext): Promise<DeliveryReport> {
    const { deliverer, poisonQueue } = await getDeps();
    const log = (level: 'info' | 'warn', m: string) => (level === 'warn' ? context.warn(redact(m)) : context.log(redact(m)));
    const report = await deliverer.sendPendingTeams({ log });
    if (report.findings > 0 || report.notConfigured.length > 0) {
      context.log(
        `teams-digest: ${report.findings} pending, ${report.posted} card(s) posted${report.digest ? ' (digest)' : ''}, ${report.skipped} already posted, ${report.failed} failed` +
          (report.notConfigured.length > 0 ? `; not configured: ${report.notConfigured.join(', ')}` : ''),
      );
    }
    for (const given of report.results.filter((r) => r.poisoned)) {
      const reason = `teams: ${given.error ?? 'failed'}`;
      const failures = [{ destination: 'teams', error: given.error ?? 'failed', permanent: Boolean(given.permanent) }];
      const body = await sendToPoison(poisonQueue, { reason, dequeueCount: given.runs ?? 1, failures, deliveryId: given.deliveryId, findingIds: given.findingIds ?? [] });
      context.warn(`teams-digest: ${given.deliveryId} moved to ${FINDINGS_POISON_QUEUE}: ${body.reason}`);
    }
    const failed = report.results.filter((r) => r.status === 'failed' && !r.poisoned);
    if (failed.length > 0) throw new Error(`teams-digest: ${failed.map((f) => `${f.deliveryId}: ${redact(f.error ?? 'failed')}`).join('; ')}; left pending for the next run`);
    return report;
  };
}

async function depsFromEnvironment(): Promise<TeamsDigestDeps> {
  const [{ loadConfig }, { delivererFromConfig }, { DELIVERY_TABLE, tableLedger }, { requireStorage }] = await Promise.all([
    import('../shared/config.js'),
    import('../shared/delivery/deliverer.js'),
    import('../shared/state/delivery-ledger.js'),
    import('../shared/state/storage.js'),
  ]);
  const config = loadConfig(process.env);
  const storage = requireStorage(config, await appCredential());
  const ledger = tableLedger(storage.table(DELIVERY_TABLE));
  // No credential for Sentinel here: this function only posts Teams cards.
  return { deliverer: delivererFromConfig(config, undefined, { ledger, pendingTeams: ledger }), poisonQueue: storage.queue(FINDINGS_POISON_QUEUE) };
}

app.timer('teamsDigest', {
  schedule: TEAMS_DIGEST_SCHEDULE,
  handler: makeTeamsDigestHandler(buildOnce(depsFromEnvironment)),
});
