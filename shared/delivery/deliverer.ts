import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import type { Finding } from '../model.js';
import { errorMessage, redact } from '../redact.js';
import { type DeliveryLedger, memoryLedger } from '../state/delivery-ledger.js';
import { buildFindingCard, teamsMessage } from './card.js';
import { buildDigestCard, digestId } from './digest.js';
import { buildIncidentPayload } from './incident.js';
import { findingLinks } from './links.js';
import { isIncidentArmId, type SentinelWriteBack, sentinelWriteBack } from './sentinel.js';
import { type PostOptions, postJson, WebhookRejectedError } from './webhook.js';

/**
 * Delivers findings to every configured destination: the incident webhook (one payload per
 * finding), Teams (one card per finding, or one digest card above digestThreshold) and the
 * Sentinel incident a finding came from. Each (delivery, destination) pair goes through the
 * ledger: 'posting' before, 'posted' after, skipped when already 'posted'.
 *
 * The one window the ledger cannot close: the receiver acted on a POST but we never recorded
 * 'posted' (a crash right after the POST, or an answer lost to a timeout). The retry carries the
 * same Idempotency-Key (certsoar-<finding id>-<destination>) and the incident payload the same
 * findingId, so a receiver that dedupes (the Logic App names the incident after findingId) shows
 * it once; a Teams Workflows webhook does not dedupe, so that window can repeat a card.
 */

export type Destination = 'incident' | 'teams' | 'sentinel';

export interface DestinationResult {
  /** Finding id, or the digest id for a digest card. */
  deliveryId: string;
  destination: Destination;
  status: 'posted' | 'skipped' | 'failed';
  attempts: number;
  httpStatus?: number;
  /** Redacted. */
  error?: string;
  /** True when retrying cannot help (the receiver rejected the request). */
  permanent?: boolean;
}

export interface DeliveryReport {
  findings: number;
  digest: boolean;
  results: DestinationResult[];
  posted: number;
  skipped: number;
  failed: number;
  /** Destinations not configured (no URL, no workspace), so nothing was sent there. */
  notConfigured: Destination[];
}

export type DeliveryLog = (level: 'info' | 'warn', message: string) => void;

export interface Deliverer {
  /** log: where this call's progress goes (an invocation's context); defaults to the deliverer's. */
  deliver(findings: Finding[], options?: { log?: DeliveryLog }): Promise<DeliveryReport>;
}

export interface DelivererDeps {
  incidentWebhookUrl?: string;
  teamsWebhookUrl?: string;
  sentinel?: SentinelWriteBack;
  ledger: DeliveryLedger;
  digestThreshold: number;
  /** Attempts per destination within one delivery (DELIVERY_MAX_ATTEMPTS). */
  maxAttempts: number;
  post?: Partial<Pick<PostOptions, 'timeoutMs' | 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'sleep'>>;
  log?: DeliveryLog;
}

export function idempotencyKey(deliveryId: string, destination: Destination): string {
  return `certsoar-${deliveryId}-${destination}`;
}

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const once = async (log: DeliveryLog, deliveryId: string, destination: Destination, send: (key: string) => Promise<{ attempts: number; httpStatus?: number }>): Promise<DestinationResult> => {
    const key = idempotencyKey(deliveryId, destination);
    const previous = await deps.ledger.get(deliveryId, destination);
    if (previous?.status === 'posted') {
      log('info', `${destination} ${deliveryId}: already posted, skipped`);
      return { deliveryId, destination, status: 'skipped', attempts: 0 };
    }
    if (previous?.status === 'posting') log('warn', `${destination} ${deliveryId}: an earlier attempt did not finish; posting again with the same Idempotency-Key`);
    await deps.ledger.markPosting(deliveryId, destination, key);
    let sent: { attempts: number; httpStatus?: number };
    try {
      sent = await send(key);
    } catch (err) {
      const error = errorMessage(err);
      const permanent = err instanceof WebhookRejectedError || (err as { kind?: string }).kind === 'validation';
      log('warn', `${destination} ${deliveryId}: failed: ${error}`);
      return { deliveryId, destination, status: 'failed', attempts: deps.maxAttempts, error, permanent };
    }
    // A ledger error here propagates on purpose: the queue message is redelivered, finds
    // 'posting', and posts again with the same Idempotency-Key (the receiver drops it).
    await deps.ledger.markPosted(deliveryId, destination, key, sent.httpStatus ?? 200);
    log('info', `${destination} ${deliveryId}: posted after ${sent.attempts} attempt(s)`);
    return { deliveryId, destination, status: 'posted', attempts: sent.attempts, ...(sent.httpStatus ? { httpStatus: sent.httpStatus } : {}) };
  };

  const post = (log: DeliveryLog, url: string, destination: Destination, body: unknown) => async (key: string) => {
    const r = await postJson(url, body, {
      destination: destination === 'incident' ? 'incident webhook' : 'Teams webhook',
      idempotencyKey: key,
      maxAttempts: deps.maxAttempts,
      ...deps.post,
      onRetry: ({ attempt, delayMs, reason }) => log('warn', `${destination}: attempt ${attempt} failed (${redact(reason)}); retrying in ${delayMs} ms`),
    });
    return { attempts: r.attempts, httpStatus: r.status };
  };

  return {
    async deliver(findings, options = {}) {
      const log: DeliveryLog = options.log ?? deps.log ?? (() => {});
      const results: DestinationResult[] = [];
      const notConfigured: Destination[] = [];
      if (!deps.incidentWebhookUrl) notConfigured.push('incident');
      if (!deps.teamsWebhookUrl) notConfigured.push('teams');
      if (!deps.sentinel) notConfigured.push('sentinel');
      const digest = findings.length > deps.digestThreshold;

      for (const finding of findings) {
        const links = findingLinks(finding);
        if (deps.incidentWebhookUrl) {
          results.push(await once(log, finding.id, 'incident', post(log, deps.incidentWebhookUrl, 'incident', buildIncidentPayload(finding, links))));
        }
        if (deps.teamsWebhookUrl && !digest) {
          results.push(await once(log, finding.id, 'teams', post(log, deps.teamsWebhookUrl, 'teams', teamsMessage(buildFindingCard(finding, links)))));
        }
        if (deps.sentinel && isIncidentArmId(finding.hit.incident?.armId)) {
          const sentinel = deps.sentinel;
          results.push(
            await once(log, finding.id, 'sentinel', async () => {
              await sentinel.writeBack(finding);
              return { attempts: 1 };
            }),
          );
        }
      }
      if (deps.teamsWebhookUrl && digest) {
        results.push(await once(log, digestId(findings), 'teams', post(log, deps.teamsWebhookUrl, 'teams', teamsMessage(buildDigestCard(findings)))));
      }
      return {
        findings: findings.length,
        digest,
        results,
        posted: results.filter((r) => r.status === 'posted').length,
        skipped: results.filter((r) => r.status === 'skipped').length,
        failed: results.filter((r) => r.status === 'failed').length,
        notConfigured,
      };
    },
  };
}

/** The deliverer the CLI and the function build from settings; the ledger defaults to memory. */
export function delivererFromConfig(
  config: Pick<
    Config,
    'INCIDENT_WEBHOOK_URL' | 'TEAMS_WEBHOOK_URL' | 'DELIVERY_MAX_ATTEMPTS' | 'DIGEST_THRESHOLD' | 'ARM_ENDPOINT' | 'SENTINEL_INCIDENT_LABEL' | 'SENTINEL_WORKSPACE_RESOURCE_ID'
  >,
  credential?: TokenCredential,
  options: { ledger?: DeliveryLedger; post?: DelivererDeps['post']; log?: DelivererDeps['log'] } = {},
): Deliverer {
  return createDeliverer({
    ...(config.INCIDENT_WEBHOOK_URL ? { incidentWebhookUrl: config.INCIDENT_WEBHOOK_URL } : {}),
    ...(config.TEAMS_WEBHOOK_URL ? { teamsWebhookUrl: config.TEAMS_WEBHOOK_URL } : {}),
    // Write-back is switched on by SENTINEL_WORKSPACE_RESOURCE_ID (and needs a credential).
    ...(credential && config.SENTINEL_WORKSPACE_RESOURCE_ID
      ? {
          sentinel: sentinelWriteBack({
            armEndpoint: config.ARM_ENDPOINT,
            credential,
            label: config.SENTINEL_INCIDENT_LABEL,
            workspaceResourceId: config.SENTINEL_WORKSPACE_RESOURCE_ID,
          }),
        }
      : {}),
    ledger: options.ledger ?? memoryLedger(),
    digestThreshold: config.DIGEST_THRESHOLD,
    maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
    ...(options.post ? { post: options.post } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
