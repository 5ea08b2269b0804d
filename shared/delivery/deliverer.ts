import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import type { Finding } from '../model.js';
import { errorMessage, redact } from '../redact.js';
import { type DeliveryLedger, memoryLedger, type PendingEntry, type PendingLedger } from '../state/delivery-ledger.js';
import { buildFindingCard, teamsMessage } from './card.js';
import { buildDigestCard, buildDigestCardFromRows, type DigestRow, digestId, digestRow } from './digest.js';
import { buildIncidentPayload } from './incident.js';
import { findingLinks } from './links.js';
import { deliverToFindingsTable, type FindingsTable, logsIngestionFindingsTable } from './logs-ingestion.js';
import { isIncidentArmId, type SentinelWriteBack, sentinelWriteBack } from './sentinel.js';
import { type SiemDestination, type SiemSettings, type SiemWriteBack, siemSteps, siemWriteBackFromConfig } from './siem-write-back.js';
import { DEFAULT_MAX_DELAY_MS, DEFAULT_POST_TIMEOUT_MS, type PostOptions, postJson, WebhookRejectedError } from './webhook.js';
import { UpstreamUnavailableError } from '../errors.js';

/**
 * Delivers findings to every configured destination: the incident webhook (one payload per
 * finding), Teams (one card per finding, or one digest card above digestThreshold) and the
 * Sentinel incident a finding came from. Each (delivery, destination) pair goes through the
 * ledger: 'posting' before, 'posted' after, skipped when already 'posted'. Updates of a known
 * threat (finding.update) go to the incident webhook as updates (threat.kind "update" names the
 * threat whose incident they add to) and to Teams only when the change is material.
 *
 * The one window the ledger cannot close: the receiver acted on a POST but we never recorded
 * 'posted' (a crash right after the POST, or an answer lost to a timeout). The retry carries the
 * same Idempotency-Key (certsoar-<finding id>-<destination>) and the incident payload the same
 * findingId, so a receiver that dedupes (the Logic App names the incident after findingId) shows
 * it once; a Teams Workflows webhook does not dedupe, so that window can repeat a card.
 *
 * Suppressed findings (a tuning rule matched) are decided here, for the CLI and the function
 * alike: never posted to the incident webhook or Teams (nor counted in a digest), recorded in the
 * ledger as 'suppressed' with the rule for each webhook destination, logged in one line and
 * listed in the report. A suppressed finding that came from a Sentinel incident still gets its
 * write-back comment (saying what suppressed it); the write-back never raises its severity.
 *
 * Teams on the Functions path (deps.pendingTeams set): deliver() sees one finding per queue
 * message, so it cannot tell a flood from a trickle. It records the card as 'pending' instead
 * (never for a suppressed finding), and sendPendingTeams(), run by the teams-digest timer, posts
 * what is pending: one digest card when more than digestThreshold wait, else one card each. Each
 * run first claims every entry for the delivery it will go out in (its own finding id, or the
 * digest id = hash of the sorted finding ids), then posts through the same ledger discipline; a
 * crash between post and mark leaves the claims, so the next run posts the same card with the same
 * Idempotency-Key even when new findings arrived meanwhile (they form their own delivery).
 * The CLI has the whole run in hand and posts Teams directly.
 */

export type Destination = 'incident' | 'teams' | 'sentinel' | 'findings-table' | SiemDestination;

export interface DestinationResult {
  /** Finding id, or the digest id for a digest card. */
  deliveryId: string;
  destination: Destination;
  /** 'pending': left for sendPendingTeams (Functions path, Teams only). */
  status: 'posted' | 'skipped' | 'failed' | 'suppressed' | 'pending';
  attempts: number;
  httpStatus?: number;
  /** Redacted. */
  error?: string;
  /** True when retrying cannot help (the receiver rejected the request). */
  permanent?: boolean;
  /** The suppression rule, when status is 'suppressed'. */
  rule?: string;
  /** Teams timer only: delivery given up, to be written to the poison queue. */
  poisoned?: boolean;
  /** Teams timer only: the findings a given-up delivery carried. */
  findingIds?: string[];
  /** Teams timer only: timer runs that failed to post it. */
  runs?: number;
}

/** A finding a tuning rule suppressed: kept from the webhooks, recorded and reported. */
export interface SuppressedDelivery {
  findingId: string;
  detectionId: string;
  rule: string;
  reason: string;
}

export interface DeliveryReport {
  /** Every finding given, suppressed ones included. */
  findings: number;
  digest: boolean;
  results: DestinationResult[];
  posted: number;
  skipped: number;
  failed: number;
  /** Teams cards left for the teams-digest timer. */
  pending: number;
  /** Findings not posted to the webhooks because a suppression rule matched them. */
  suppressed: SuppressedDelivery[];
  /** Destinations not configured (no URL, no workspace), so nothing was sent there. */
  notConfigured: Destination[];
}

export type DeliveryLog = (level: 'info' | 'warn', message: string) => void;

export interface Deliverer {
  /** log: where this call's progress goes (an invocation's context); defaults to the deliverer's. */
  deliver(findings: Finding[], options?: { log?: DeliveryLog }): Promise<DeliveryReport>;
  /**
   * Posts the Teams cards deliver() left pending (see above); `findings` counts the entries taken.
   * Throws when the ledger fails mid-way (the claims make the next run finish the same deliveries).
   */
  sendPendingTeams(options?: { log?: DeliveryLog }): Promise<DeliveryReport>;
}

export interface DelivererDeps {
  incidentWebhookUrl?: string;
  teamsWebhookUrl?: string;
  sentinel?: SentinelWriteBack;
  /** Hunts mode: rows in CertsoarFindings_CL, raised as incidents by the findings analytics rule. */
  findingsTable?: FindingsTable;
  /** Splunk HEC / notable and QRadar offense write-back, when configured. */
  siem?: SiemWriteBack;
  ledger: DeliveryLedger;
  /** When set (the Functions path), Teams cards are recorded here by deliver() and posted by sendPendingTeams(). */
  pendingTeams?: PendingLedger;
  digestThreshold: number;
  /** Attempts per destination within one delivery (DELIVERY_MAX_ATTEMPTS). */
  maxAttempts: number;
  post?: Partial<Pick<PostOptions, 'timeoutMs' | 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'sleep'>>;
  /** How long a claim on a delivery holds against other workers (default: the longest a post series may take). */
  claimLeaseMs?: number;
  log?: DeliveryLog;
}

export function idempotencyKey(deliveryId: string, destination: Destination): string {
  return `certsoar-${deliveryId}-${destination}`;
}

/** How often a worker that lost a claim looks again whether the winner finished. */
const CLAIM_POLL_MS = 500;

/** The longest one post series may take (every attempt timing out, every backoff at its cap): a claim's lease. */
function postSeriesBudgetMs(deps: DelivererDeps): number {
  const timeoutMs = deps.post?.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS;
  const maxDelayMs = deps.post?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  return deps.maxAttempts * (timeoutMs + maxDelayMs);
}

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const logOf = (options: { log?: DeliveryLog }): DeliveryLog => options.log ?? deps.log ?? (() => {});
  return {
    deliver: (findings, options = {}) => deliverFindings(deps, logOf(options), findings),
    sendPendingTeams: (options = {}) => sendPendingTeams(deps, logOf(options)),
  };
}

type Send = (key: string) => Promise<{ attempts: number; httpStatus?: number }>;

/** One (delivery, destination) through the ledger: claim, post, mark posted; skipped when another worker has it done. */
async function postOnce(deps: DelivererDeps, log: DeliveryLog, deliveryId: string, destination: Destination, send: Send): Promise<DestinationResult> {
  const key = idempotencyKey(deliveryId, destination);
  if (!(await claimDelivery(deps, log, deliveryId, destination, key))) {
    log('info', `${destination} ${deliveryId}: already posted, skipped`);
    return { deliveryId, destination, status: 'skipped', attempts: 0 };
  }
  let sent: { attempts: number; httpStatus?: number };
  try {
    sent = await send(key);
  } catch (err) {
    const error = errorMessage(err);
    const permanent = err instanceof WebhookRejectedError || (err as { kind?: string }).kind === 'validation';
    log('warn', `${destination} ${deliveryId}: failed: ${error}`);
    await deps.ledger.release(deliveryId, destination);
    return { deliveryId, destination, status: 'failed', attempts: deps.maxAttempts, error, permanent };
  }
  // A ledger error here propagates on purpose: the queue message is redelivered, finds
  // 'posting', and posts again with the same Idempotency-Key (the receiver drops it).
  await deps.ledger.markPosted(deliveryId, destination, key, sent.httpStatus ?? 200);
  log('info', `${destination} ${deliveryId}: posted after ${sent.attempts} attempt(s)`);
  return { deliveryId, destination, status: 'posted', attempts: sent.attempts, ...(sent.httpStatus ? { httpStatus: sent.httpStatus } : {}) };
}

/**
 * True when this worker holds the claim; false when the delivery is already done. While another
 * worker holds a live claim, waits for it to finish (or its lease to run out, a crashed worker);
 * past that, throws so the message is redelivered later instead of being marked done.
 */
async function claimDelivery(deps: DelivererDeps, log: DeliveryLog, deliveryId: string, destination: Destination, key: string): Promise<boolean> {
  const leaseMs = deps.claimLeaseMs ?? postSeriesBudgetMs(deps);
  const giveUpAt = Date.now() + leaseMs + CLAIM_POLL_MS;
  let waited = false;
  for (;;) {
    const claim = await deps.ledger.markPosting(deliveryId, destination, key, leaseMs);
    if (claim.claimed) {
      if (claim.previous?.status === 'posting') log('warn', `${destination} ${deliveryId}: an earlier attempt did not finish; posting again with the same Idempotency-Key`);
      return true;
    }
    if (claim.current.status !== 'posting') return false;
    if (Date.now() >= giveUpAt) throw new UpstreamUnavailableError(`${destination} ${deliveryId}`, 'another worker holds the delivery claim; retry later');
    if (!waited) log('info', `${destination} ${deliveryId}: another worker is posting it; waiting for it to finish`);
    waited = true;
    await new Promise<void>((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
  }
}

function poster(deps: DelivererDeps, log: DeliveryLog, url: string, destination: Destination, body: unknown): Send {
  return async (key) => {
    const r = await postJson(url, body, {
      destination: destination === 'incident' ? 'incident webhook' : 'Teams webhook',
      idempotencyKey: key,
      maxAttempts: deps.maxAttempts,
      ...deps.post,
      onRetry: ({ attempt, delayMs, reason }) => log('warn', `${destination}: attempt ${attempt} failed (${redact(reason)}); retrying in ${delayMs} ms`),
    });
    return { attempts: r.attempts, httpStatus: r.status };
  };
}

function webhookDestinations(deps: DelivererDeps): Destination[] {
  return [...(deps.incidentWebhookUrl ? ['incident' as const] : []), ...(deps.teamsWebhookUrl ? ['teams' as const] : [])];
}

/** Records why a suppressed finding is not posted; one already posted (before the rule existed) stays posted. */
async function withhold(deps: DelivererDeps, deliveryId: string, destination: Destination, rule: string): Promise<DestinationResult> {
  const previous = await deps.ledger.get(deliveryId, destination);
  if (previous?.status === 'posted') return { deliveryId, destination, status: 'skipped', attempts: 0 };
  if (previous?.status !== 'suppressed' || previous.suppressedBy !== rule) {
    await deps.ledger.markSuppressed(deliveryId, destination, idempotencyKey(deliveryId, destination), rule);
  }
  return { deliveryId, destination, status: 'suppressed', attempts: 0, rule };
}

async function deliverFindings(deps: DelivererDeps, log: DeliveryLog, findings: Finding[]): Promise<DeliveryReport> {
  const notConfigured: Destination[] = [];
  if (!deps.incidentWebhookUrl) notConfigured.push('incident');
  if (!deps.teamsWebhookUrl) notConfigured.push('teams');
  if (!deps.sentinel) notConfigured.push('sentinel');
  const live = findings.filter(tellsTeams);
  const pendingTeams = deps.teamsWebhookUrl ? deps.pendingTeams : undefined;
  const digest = !pendingTeams && live.length > deps.digestThreshold;
  const results: DestinationResult[] = [];
  const suppressed: SuppressedDelivery[] = [];
  for (const finding of findings) {
    if (finding.suppressedBy) suppressed.push(await recordSuppressed(deps, log, finding, results));
    results.push(...(await deliverOne(deps, log, finding, { digest, pendingTeams })));
  }
  if (deps.findingsTable) {
    // A finding from a Sentinel incident already has its incident: a row would raise a second one.
    const rows = live.filter((f) => !f.hit.incident?.armId);
    for (const r of await deliverToFindingsTable(rows, deps.findingsTable, deps.ledger, log, deps.claimLeaseMs ?? postSeriesBudgetMs(deps))) {
      results.push({ ...r, destination: 'findings-table', attempts: r.status === 'skipped' ? 0 : 1 });
    }
  }
  if (deps.teamsWebhookUrl && digest) {
    results.push(await postOnce(deps, log, digestId(live), 'teams', poster(deps, log, deps.teamsWebhookUrl, 'teams', teamsMessage(buildDigestCard(live)))));
  }
  return report(findings.length, digest, results, suppressed, notConfigured);
}

async function recordSuppressed(deps: DelivererDeps, log: DeliveryLog, finding: Finding, results: DestinationResult[]): Promise<SuppressedDelivery> {
  const { rule, reason } = finding.suppressedBy!;
  log('info', `suppressed ${finding.id}: detection ${finding.hit.detectionId}, rule ${rule}; not posted`);
  for (const destination of webhookDestinations(deps)) results.push(await withhold(deps, finding.id, destination, rule));
  return { findingId: finding.id, detectionId: finding.hit.detectionId, rule, reason };
}

/**
 * Teams hears of a threat when it is new or changed materially (new sources, stronger signals); a
 * plain update (more rows of the same threat) goes to the incident only. Suppressed findings never.
 */
function tellsTeams(finding: Finding): boolean {
  return !finding.suppressedBy && (!finding.update || finding.update.material);
}

async function deliverOne(deps: DelivererDeps, log: DeliveryLog, finding: Finding, plan: { digest: boolean; pendingTeams: PendingLedger | undefined }): Promise<DestinationResult[]> {
  const results: DestinationResult[] = [];
  const links = findingLinks(finding);
  const live = !finding.suppressedBy;
  // A finding from a Sentinel incident, a Splunk alert or a QRadar offense already has its incident:
  // it gets the write-back, not a second incident.
  if (deps.incidentWebhookUrl && live && !finding.hit.incident?.armId && !finding.hit.incident?.siem) {
    results.push(await postOnce(deps, log, finding.id, 'incident', poster(deps, log, deps.incidentWebhookUrl, 'incident', buildIncidentPayload(finding, links))));
  }
  if (deps.teamsWebhookUrl && live && !tellsTeams(finding)) {
    log('info', `teams ${finding.id}: update of threat ${finding.threatId} without a material change; no card`);
  } else if (plan.pendingTeams && live) {
    results.push(await leavePending(deps, log, plan.pendingTeams, finding, links));
  } else if (deps.teamsWebhookUrl && !plan.digest && live) {
    results.push(await postOnce(deps, log, finding.id, 'teams', poster(deps, log, deps.teamsWebhookUrl, 'teams', teamsMessage(buildFindingCard(finding, links)))));
  }
  const sentinel = deps.sentinel;
  if (sentinel && isIncidentArmId(finding.hit.incident?.armId)) {
    // Suppressed too: the comment tells the analyst why; writeBack never raises its severity.
    results.push(
      await postOnce(deps, log, finding.id, 'sentinel', async () => {
        await sentinel.writeBack(finding);
        return { attempts: 1 };
      }),
    );
  }
  for (const step of deps.siem ? siemSteps(deps.siem, finding) : []) results.push(await postOnce(deps, log, finding.id, step.destination, step.send));
  return results;
}

/** Functions path: the Teams card waits for the teams-digest timer (a redelivery leaves it as it is). */
async function leavePending(deps: DelivererDeps, log: DeliveryLog, ledger: PendingLedger, finding: Finding, links: ReturnType<typeof findingLinks>): Promise<DestinationResult> {
  const deliveryId = finding.id;
  const previous = await deps.ledger.get(deliveryId, 'teams');
  if (previous && previous.status !== 'suppressed') {
    log('info', `teams ${deliveryId}: already ${previous.status}, skipped`);
    return { deliveryId, destination: 'teams', status: 'skipped', attempts: 0 };
  }
  const message = JSON.stringify(teamsMessage(buildFindingCard(finding, links)));
  await ledger.markPending(deliveryId, 'teams', idempotencyKey(deliveryId, 'teams'), { message, summary: JSON.stringify(digestRow(finding)) });
  log('info', `teams ${deliveryId}: pending for the teams-digest timer`);
  return { deliveryId, destination: 'teams', status: 'pending', attempts: 0 };
}

async function sendPendingTeams(deps: DelivererDeps, log: DeliveryLog): Promise<DeliveryReport> {
  const url = deps.teamsWebhookUrl;
  const ledger = deps.pendingTeams;
  if (!url || !ledger) return report(0, false, [], [], url ? [] : ['teams']);
  const entries = await stillPending(deps, ledger, await ledger.listPending('teams'));
  const { deliveries, digest } = await planPending(deps, ledger, entries);
  if (deliveries.size > 0) log('info', `teams: ${entries.length} pending, ${deliveries.size} card(s) to post${digest ? ' (one digest)' : ''}`);
  const results: DestinationResult[] = [];
  let anyDigest = false;
  for (const [deliveryId, members] of deliveries) {
    const single = members.length === 1 && members[0]!.findingId === deliveryId;
    anyDigest ||= !single;
    const body = single ? (JSON.parse(members[0]!.message) as unknown) : teamsMessage(buildDigestCardFromRows(members.map((m) => JSON.parse(m.summary) as DigestRow)));
    const result = await postOnce(deps, log, deliveryId, 'teams', poster(deps, log, url, 'teams', body));
    if (result.status === 'failed') {
      results.push(await countFailure(deps, log, ledger, result, members));
      continue; // not given up: stays pending and claimed, the next run tries again
    }
    results.push(result);
    const httpStatus = result.httpStatus ?? (await deps.ledger.get(deliveryId, 'teams'))?.httpStatus ?? 200;
    for (const m of members) await ledger.settlePending(m.findingId, 'teams', deliveryId, idempotencyKey(deliveryId, 'teams'), httpStatus);
  }
  return report(entries.length, anyDigest, results, [], []);
}

/** Drops cards whose finding is already posted or given up (a duplicate message that raced the timer). */
async function stillPending(deps: DelivererDeps, ledger: PendingLedger, entries: PendingEntry[]): Promise<PendingEntry[]> {
  const live: PendingEntry[] = [];
  for (const e of entries) {
    const status = (await deps.ledger.get(e.findingId, 'teams'))?.status;
    if (status === 'posted' || status === 'poisoned') await ledger.dropPending(e.findingId, 'teams');
    else live.push(e);
  }
  return live;
}

/** Deliveries an earlier run claimed go out again exactly as planned; fresh entries form one digest or one card each. */
async function planPending(deps: DelivererDeps, ledger: PendingLedger, entries: PendingEntry[]): Promise<{ deliveries: Map<string, PendingEntry[]>; digest: boolean }> {
  const deliveries = new Map<string, PendingEntry[]>();
  for (const e of entries) if (e.claimedBy) deliveries.set(e.claimedBy, [...(deliveries.get(e.claimedBy) ?? []), e]);
  const fresh = entries.filter((e) => !e.claimedBy);
  const digest = fresh.length > deps.digestThreshold;
  const plan = digest ? [{ id: digestId(fresh.map((e) => ({ id: e.findingId }))), members: fresh }] : fresh.map((e) => ({ id: e.findingId, members: [e] }));
  for (const { id, members } of plan) {
    for (const e of members) await ledger.claimPending(e.findingId, 'teams', id);
    deliveries.set(id, members);
  }
  return { deliveries, digest };
}

/**
 * A failed timer post: counted on each card; a permanent failure (Teams rejected the card) or
 * DELIVERY_MAX_ATTEMPTS failed runs give the delivery up, the same limit the incident webhook
 * has: the cards leave the pending list, the ledger says 'poisoned' with the reason, and the
 * result says poisoned so the function writes it to the poison queue.
 */
async function countFailure(deps: DelivererDeps, log: DeliveryLog, ledger: PendingLedger, result: DestinationResult, members: PendingEntry[]): Promise<DestinationResult> {
  let runs = 0;
  for (const m of members) runs = Math.max(runs, await ledger.recordPendingFailure(m.findingId, 'teams'));
  if (!result.permanent && runs < deps.maxAttempts) return result;
  const error = result.error ?? 'failed';
  for (const m of members) await ledger.poisonPending(m.findingId, 'teams', idempotencyKey(result.deliveryId, 'teams'), error);
  log('warn', `teams ${result.deliveryId}: given up after ${runs} run(s)${result.permanent ? ' (rejected, retrying cannot help)' : ''}: ${error}`);
  return { ...result, poisoned: true, findingIds: members.map((m) => m.findingId), runs };
}

function report(findings: number, digest: boolean, results: DestinationResult[], suppressed: SuppressedDelivery[], notConfigured: Destination[]): DeliveryReport {
  return {
    findings,
    digest,
    results,
    posted: results.filter((r) => r.status === 'posted').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
    pending: results.filter((r) => r.status === 'pending').length,
    suppressed,
    notConfigured,
  };
}

/** The deliverer the CLI and the function build from settings; the ledger defaults to memory. */
export function delivererFromConfig(
  config: Pick<
    Config,
    | 'INCIDENT_WEBHOOK_URL'
    | 'TEAMS_WEBHOOK_URL'
    | 'DELIVERY_MAX_ATTEMPTS'
    | 'DIGEST_THRESHOLD'
    | 'ARM_ENDPOINT'
    | 'SENTINEL_INCIDENT_LABEL'
    | 'SENTINEL_WORKSPACE_RESOURCE_ID'
    | 'LOGS_INGESTION_ENDPOINT'
    | 'LOGS_INGESTION_RULE_ID'
    | 'LOGS_INGESTION_STREAM'
    | SiemSettings
  >,
  credential?: TokenCredential,
  options: { ledger?: DeliveryLedger; pendingTeams?: PendingLedger; post?: DelivererDeps['post']; log?: DelivererDeps['log'] } = {},
): Deliverer {
  const siem = siemWriteBackFromConfig(config);
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
    // Hunts mode's findings table is switched on by the DCR's endpoint and immutable id (and needs a credential).
    ...(credential && config.LOGS_INGESTION_ENDPOINT && config.LOGS_INGESTION_RULE_ID
      ? {
          findingsTable: logsIngestionFindingsTable({
            endpoint: config.LOGS_INGESTION_ENDPOINT,
            ruleId: config.LOGS_INGESTION_RULE_ID,
            streamName: config.LOGS_INGESTION_STREAM,
            credential,
          }),
        }
      : {}),
    ...(siem ? { siem } : {}),
    ledger: options.ledger ?? memoryLedger(),
    ...(options.pendingTeams ? { pendingTeams: options.pendingTeams } : {}),
    digestThreshold: config.DIGEST_THRESHOLD,
    maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
    ...(options.post ? { post: options.post } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
