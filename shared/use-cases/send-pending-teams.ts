import type { Config } from '../config.js';
import { type Deliverer, type DeliveryReport, delivererFromConfig } from '../delivery/deliverer.js';
import { redact } from '../redact.js';
import { DELIVERY_TABLE, tableLedger } from '../state/delivery-ledger.js';
import type { TokenCredential } from '@azure/identity';
import { requireStorage } from '../state/storage.js';
import type { UseCaseLog } from './log.js';

/**
 * Post the Teams cards the deliver function left pending: more than DIGEST_THRESHOLD pending → one
 * digest card, otherwise one card per finding. A failed post stays pending (and claimed) for the
 * next run; the run then throws, so it shows in Application Insights.
 */
export interface TeamsDigestDeps {
  deliverer: Deliverer;
}

export async function sendPendingTeams(deps: TeamsDigestDeps, log: UseCaseLog): Promise<DeliveryReport> {
  const report = await deps.deliverer.sendPendingTeams({ log: (level, m) => (level === 'warn' ? log.warn(m) : log.info(m)) });
  if (report.findings > 0 || report.notConfigured.length > 0) {
    log.info(
      `teams-digest: ${report.findings} pending, ${report.posted} card(s) posted${report.digest ? ' (digest)' : ''}, ${report.skipped} already posted, ${report.failed} failed` +
        (report.notConfigured.length > 0 ? `; not configured: ${report.notConfigured.join(', ')}` : ''),
    );
  }
  const failed = report.results.filter((r) => r.status === 'failed');
  if (failed.length > 0) throw new Error(`teams-digest: ${failed.map((f) => `${f.deliveryId}: ${redact(f.error ?? 'failed')}`).join('; ')}; left pending for the next run`);
  return report;
}

/** Production wiring: the delivery ledger in Table Storage; no Sentinel credential (only Teams cards are posted). */
export function teamsDigestDeps(config: Config, credential: TokenCredential): TeamsDigestDeps {
  const ledger = tableLedger(requireStorage(config, credential).table(DELIVERY_TABLE));
  return { deliverer: delivererFromConfig(config, undefined, { ledger, pendingTeams: ledger }) };
}
