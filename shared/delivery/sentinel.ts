import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import axios, { type AxiosResponse } from 'axios';
import { UpstreamUnavailableError, ValidationError } from '../errors.js';
import type { Finding, Level } from '../model.js';
import { redact } from '../redact.js';
import { escapeHtml } from '../text/escape.js';
import { detectionInfo } from './detection-info.js';
import { occurrencesText, sourcesText, updateText } from '../threats/describe.js';

/**
 * Writes the enrichment back to the Sentinel incident a finding came from (automation-rule path),
 * through the Microsoft.SecurityInsights ARM REST API:
 * - a comment with a deterministic id per finding (PUT is create-or-update, so a retry or a
 *   redelivered message rewrites the same comment instead of adding another);
 * - severity raised to the finding's level (never lowered; not raised for a suppressed finding)
 *   and labels added, with GET → modify → PUT carrying the etag; a 412 (someone else changed the
 *   incident in between) re-reads and tries again.
 *
 * axios with a bearer token from the TokenCredential: the same HTTP client as the webhooks and
 * three plain calls; @azure/core-rest-pipeline is only a transitive dependency here.
 */

export const SECURITY_INSIGHTS_API_VERSION = '2024-03-01';
const SEVERITY_ORDER: Record<string, number> = { Informational: 0, Low: 1, Medium: 2, High: 3 };
const INCIDENT_ARM_ID = /^\/subscriptions\/[^/?#]+\/resourceGroups\/[^/?#]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/?#]+\/providers\/Microsoft\.SecurityInsights\/incidents\/[^/?#]+$/i;
/** Sentinel caps comment messages at 30,000 characters. */
const MAX_COMMENT_CHARS = 30_000;

export interface SentinelWriteBackOptions {
  armEndpoint: string;
  credential: TokenCredential;
  /** When set (SENTINEL_WORKSPACE_RESOURCE_ID), only incidents of this workspace are written to. */
  workspaceResourceId?: string;
  /** Labels every touched incident gets (SENTINEL_INCIDENT_LABEL). */
  label: string;
  timeoutMs?: number;
  /** Attempts for the etag-safe update when ARM answers 412. */
  maxEtagAttempts?: number;
}

export interface WriteBackResult {
  commentId: string;
  severityBefore: string;
  severityAfter: string;
  labelsAdded: string[];
  /** How many PUTs of the incident were needed (0 when nothing changed). */
  updateAttempts: number;
}

export interface SentinelWriteBack {
  writeBack(finding: Finding): Promise<WriteBackResult>;
}

export function isIncidentArmId(armId: string | undefined): armId is string {
  return typeof armId === 'string' && INCIDENT_ARM_ID.test(armId);
}

/** A GUID-shaped id derived from the finding: the same finding always writes the same comment. */
export function commentIdFor(findingId: string): string {
  const h = createHash('sha256').update(`certsoar-comment\u0000${findingId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Only ever raises: returns the higher of the two severities. */
export function raisedSeverity(current: string, wanted: Level): string {
  return (SEVERITY_ORDER[wanted] ?? 0) > (SEVERITY_ORDER[current] ?? -1) ? wanted : current;
}

export function commentText(finding: Finding): string {
  // The portal renders comments as HTML: a CN like <img src=x onerror=…> must stay text.
  const text = escapeHtml(redact(summaryLines(finding).join('\n')));
  return text.length > MAX_COMMENT_CHARS ? `${text.slice(0, MAX_COMMENT_CHARS - 1)}…` : text;
}

/** What certsoar says about a finding where analysts work (Sentinel comment, QRadar note, Splunk notable), as plain lines. */
export function summaryLines(finding: Finding): string[] {
  const d = detectionInfo(finding.hit.detectionId);
  const ct = finding.enrichment.ct;
  const age = finding.enrichment.certificateAge;
  const lines = [
    `certsoar: ${finding.level} (score ${finding.score}) — ${d.technique ? `${d.technique.id} ${d.technique.name}` : d.title}`,
    ...(finding.suppressedBy ? [`Suppressed by ${finding.suppressedBy.rule}: ${finding.suppressedBy.reason}`] : []),
    ...(finding.update ? [updateText(finding) as string] : []),
    `Threat ${finding.threatId}: ${occurrencesText(finding)}, ${finding.firstSeen} to ${finding.lastSeen}${hostsLine(finding)}`,
    'Reasons:',
    ...finding.reasons.slice(0, 30).map((r) => `  ${r.points >= 0 ? '+' : ''}${r.points} ${r.reason}`),
    ...(finding.reasons.length > 30 ? [`  +${finding.reasons.length - 30} more`] : []),
    `CT: ${ct ? `${ct.domain} first seen ${ct.firstSeen ?? 'never'}; ${ct.issuedLast7Days} certificates in 7 days, ${ct.issuedLast30Days} in 30 days${ct.truncated ? ' (lower bound)' : ''}` : 'not available'}`,
    `Certificate age: ${age?.ageDays !== undefined ? `${Math.floor(age.ageDays)} days (from ${age.from})` : 'unknown'}`,
    ...(finding.enrichment.missing.length > 0 ? [`Missing enrichment: ${finding.enrichment.missing.map((m) => `${m.source} (${m.reason})`).join('; ')}`] : []),
    `Finding id: ${finding.id}`,
  ];
  return lines;
}

function hostsLine(finding: Finding): string {
  const hosts = sourcesText(finding.sources, 'hosts', 20);
  return hosts ? `; from ${hosts}` : '';
}

interface IncidentResource {
  etag?: string;
  properties: { severity: string; status: string; title: string; labels?: Array<{ labelName: string; labelType?: string }>; [k: string]: unknown };
  [k: string]: unknown;
}

type ArmCall = (method: 'GET' | 'PUT', path: string, body?: unknown, headers?: Record<string, string>) => Promise<AxiosResponse>;

/** One ARM request with a fresh token; network failures become UpstreamUnavailableError without the URL. */
function armCaller(options: SentinelWriteBackOptions): ArmCall {
  const endpoint = options.armEndpoint.replace(/\/+$/, '');
  const scope = `${new URL(endpoint).origin}/.default`;
  const timeout = options.timeoutMs ?? 30_000;
  return async (method, path, body, headers = {}) => {
    const token = await options.credential.getToken(scope);
    if (!token) throw new UpstreamUnavailableError('Azure Resource Manager', 'no access token');
    try {
      return await axios.request({
        method,
        url: `${endpoint}${path}${path.includes('?') ? '&' : '?'}api-version=${SECURITY_INSIGHTS_API_VERSION}`,
        data: body,
        headers: { Authorization: `Bearer ${token.token}`, 'Content-Type': 'application/json', ...headers },
        timeout,
        validateStatus: () => true,
        maxRedirects: 0,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UpstreamUnavailableError('Azure Resource Manager', `${method} incident failed: ${code ?? 'network error'}`);
    }
  };
}

function fail(what: string, r: AxiosResponse): never {
  const detail = typeof r.data === 'object' && r.data && 'error' in r.data ? redact(String((r.data as { error?: { code?: string } }).error?.code ?? '')) : '';
  throw new UpstreamUnavailableError('Azure Resource Manager', `${what}: HTTP ${r.status}${detail ? ` ${detail}` : ''}`, r.status);
}

export function sentinelWriteBack(options: SentinelWriteBackOptions): SentinelWriteBack {
  const call = armCaller(options);
  const maxEtagAttempts = options.maxEtagAttempts ?? 5;
  return {
    async writeBack(finding) {
      const armId = finding.hit.incident?.armId;
      const workspace = options.workspaceResourceId?.replace(/\/+$/, '').toLowerCase();
      if (!isIncidentArmId(armId) || (workspace && !armId.toLowerCase().startsWith(`${workspace}/providers/microsoft.securityinsights/incidents/`))) {
        throw new ValidationError('cannot write back', [{ path: 'hit.incident.armId', message: 'expected the ARM id of a Microsoft.SecurityInsights incident in the configured workspace' }]);
      }
      const commentId = commentIdFor(finding.id);
      const comment = await call('PUT', `${armId}/comments/${commentId}`, { properties: { message: commentText(finding) } });
      if (comment.status !== 200 && comment.status !== 201) fail('add comment', comment);
      const wantedLabels = [options.label, finding.hit.detectionId].filter((l, i, all) => l && all.indexOf(l) === i);
      for (let attempt = 1; attempt <= maxEtagAttempts; attempt++) {
        const outcome = await updateIncidentOnce(call, armId, finding, wantedLabels);
        if (!outcome) continue;
        const { changed, ...severityAndLabels } = outcome;
        return { commentId, ...severityAndLabels, updateAttempts: changed ? attempt : attempt - 1 };
      }
      throw new UpstreamUnavailableError('Azure Resource Manager', `update incident: the incident kept changing (${maxEtagAttempts} etag conflicts)`, 412);
    },
  };
}

/** Raises the severity (never lowers it) and adds missing labels with If-Match; undefined when the etag lost a race. */
async function updateIncidentOnce(call: ArmCall, armId: string, finding: Finding, wantedLabels: string[]) {
  const got = await call('GET', armId);
  if (got.status !== 200) fail('read incident', got);
  const incident = got.data as IncidentResource;
  const before = incident.properties.severity;
  const after = finding.suppressedBy ? before : raisedSeverity(before, finding.level);
  const existing = incident.properties.labels ?? [];
  const missing = wantedLabels.filter((l) => !existing.some((e) => e.labelName.toLowerCase() === l.toLowerCase()));
  if (after === before && missing.length === 0) return { severityBefore: before, severityAfter: before, labelsAdded: [], changed: false };
  const etag = incident.etag ?? (got.headers.etag as string | undefined);
  const body: IncidentResource = {
    ...(etag ? { etag } : {}),
    properties: { ...writableProperties(incident.properties), severity: after, labels: [...existing, ...missing.map((labelName) => ({ labelName, labelType: 'User' }))] },
  };
  const put = await call('PUT', armId, body, etag ? { 'If-Match': etag } : {});
  if (put.status === 200 || put.status === 201) return { severityBefore: before, severityAfter: after, labelsAdded: missing, changed: true };
  if (put.status !== 412 && put.status !== 409) fail('update incident', put);
  return undefined;
}

/** Properties ARM computes; sent back they are at best ignored, so they stay out of the PUT. */
const READ_ONLY = new Set(['additionalData', 'createdTimeUtc', 'lastModifiedTimeUtc', 'incidentNumber', 'incidentUrl', 'relatedAnalyticRuleIds']);

function writableProperties(properties: IncidentResource['properties']): IncidentResource['properties'] {
  return Object.fromEntries(Object.entries(properties).filter(([k]) => !READ_ONLY.has(k))) as IncidentResource['properties'];
}
