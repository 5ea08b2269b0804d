import type { TokenCredential } from '@azure/core-auth';
import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import type { Finding } from '../model.js';
import { errorMessage } from '../redact.js';
import type { DeliveryLedger } from '../state/delivery-ledger.js';
import { FINDINGS_STREAM, findingRow } from './logs-ingestion-row.js';

/**
 * Hunts mode: findings go to the custom table CertsoarFindings_CL through the Azure Monitor Logs
 * Ingestion API (POST {endpoint}/dataCollectionRules/{immutable id}/streams/{stream}), where the
 * one findings analytics rule turns each row into an alert and groups the alerts of a threat into
 * one incident. The client (@azure/monitor-ingestion) cuts the rows into calls under 1 MB, gzips
 * them and retries 429 (honouring Retry-After) and 5xx in its pipeline; a call that still fails
 * is reported with the rows it carried, so exactly those findings are retried later.
 */

export interface FindingsTableOutcome {
  /** Finding ids whose rows the service accepted. */
  sent: string[];
  /** Finding ids whose rows were not accepted, with the (redacted) reason. */
  failed: Array<{ findingId: string; error: string }>;
}

export interface FindingsTable {
  send(findings: readonly Finding[]): Promise<FindingsTableOutcome>;
}

export interface FindingsTableSettings {
  /** Logs ingestion endpoint of the DCR (or its DCE), e.g. https://<dcr>.<region>-1.ingest.monitor.azure.com */
  endpoint: string;
  /** Immutable id of the data collection rule (dcr-…). */
  ruleId: string;
  streamName?: string;
  credential: TokenCredential;
  /** Pipeline options (retry delays in tests, a custom audience in sovereign clouds). */
  clientOptions?: LogsIngestionClientOptions;
}

export function logsIngestionFindingsTable(settings: FindingsTableSettings): FindingsTable {
  const client = new LogsIngestionClient(settings.endpoint, settings.credential, settings.clientOptions);
  const stream = settings.streamName ?? FINDINGS_STREAM;
  return {
    async send(findings) {
      if (findings.length === 0) return { sent: [], failed: [] };
      const rows = findings.map((f) => findingRow(f));
      const failed = new Map<string, string>();
      try {
        await client.upload(settings.ruleId, stream, rows, {
          maxConcurrency: 1,
          onError: ({ failedLogs, cause }) => {
            for (const row of failedLogs) failed.set(String(row['FindingId']), errorMessage(cause));
          },
        });
      } catch (err) {
        // AggregateLogsUploadError after onError named the rows; anything else failed them all.
        if (failed.size === 0) for (const r of rows) failed.set(String(r['FindingId']), errorMessage(err));
      }
      return {
        sent: findings.map((f) => f.id).filter((id) => !failed.has(id)),
        failed: [...failed].map(([findingId, error]) => ({ findingId, error })),
      };
    },
  };
}

export const FINDINGS_TABLE_DESTINATION = 'findings-table';

export interface TableDeliveryResult {
  deliveryId: string;
  status: 'posted' | 'skipped' | 'failed';
  error?: string;
}

/**
 * One call for every finding of a delivery not yet in the table, through the delivery ledger: a
 * claim ('posting', a conditional write with a lease) before the call, 'posted' for each row
 * accepted, the claim released for each row refused. A row already posted, or claimed by another
 * worker holding the same finding, is skipped. A row the service accepted but whose 'posted' mark
 * was lost is sent again with the same FindingId (the rule groups by ThreatId: same incident).
 */
export async function deliverToFindingsTable(
  findings: readonly Finding[],
  table: FindingsTable,
  ledger: DeliveryLedger,
  log: (level: 'info' | 'warn', message: string) => void,
  leaseMs?: number,
): Promise<TableDeliveryResult[]> {
  const results: TableDeliveryResult[] = [];
  const toSend: Finding[] = [];
  for (const f of findings) {
    const claim = await ledger.markPosting(f.id, FINDINGS_TABLE_DESTINATION, tableKey(f.id), leaseMs);
    if (claim.claimed) toSend.push(f);
    else results.push({ deliveryId: f.id, status: 'skipped' });
  }
  if (toSend.length === 0) return results;
  const outcome = await table.send(toSend);
  for (const id of outcome.sent) {
    await ledger.markPosted(id, FINDINGS_TABLE_DESTINATION, tableKey(id), 204);
    results.push({ deliveryId: id, status: 'posted' });
  }
  for (const { findingId, error } of outcome.failed) {
    await ledger.release(findingId, FINDINGS_TABLE_DESTINATION);
    log('warn', `${FINDINGS_TABLE_DESTINATION} ${findingId}: failed: ${error}`);
    results.push({ deliveryId: findingId, status: 'failed', error });
  }
  log('info', `${FINDINGS_TABLE_DESTINATION}: ${outcome.sent.length} row(s) sent, ${outcome.failed.length} failed`);
  return results;
}

function tableKey(findingId: string): string {
  return `certsoar-${findingId}-${FINDINGS_TABLE_DESTINATION}`;
}
