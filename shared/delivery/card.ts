import { ctPresence } from '../enrichment/ct-presence.js';
import type { Finding, Level } from '../model.js';
import { redact } from '../redact.js';
import { escapeCardMarkdown } from '../text/escape.js';
import { detectionInfo } from './detection-info.js';
import type { IncidentLinks } from './incident-schema.js';
import { findingTitle } from './incident.js';
import { findingLinks } from './links.js';
import { occurrencesText, sourcesText, updateText } from '../threats/describe.js';

/**
 * The Teams card for one finding: an Adaptive Card 1.5 (what Teams Workflows webhooks render,
 * Table included) inside the message envelope Teams expects. Everything shown is redacted, and
 * user-controlled text cannot make markdown links.
 */

export const ADAPTIVE_CARD_VERSION = '1.5';
export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams rejects messages over about 28 KB; we stay under 28,000 bytes of UTF-8 JSON for the whole envelope. */
export const TEAMS_MAX_MESSAGE_BYTES = 28_000;

export type CardElement = Record<string, unknown>;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema?: string;
  version: string;
  body: CardElement[];
  actions?: CardElement[];
  msteams?: { width: 'Full' };
}

export interface TeamsMessage {
  type: 'message';
  attachments: Array<{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl: null; content: AdaptiveCard }>;
}

export type TextColor = 'default' | 'attention' | 'warning' | 'accent' | 'good';

export const LEVEL_COLOR: Record<Level, TextColor> = {
  High: 'attention',
  Medium: 'warning',
  Low: 'accent',
  Informational: 'default',
};

/** Wraps a card in the Teams Workflows / incoming-webhook envelope. */
export function teamsMessage(card: AdaptiveCard): TeamsMessage {
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] };
}

/** Bytes of the UTF-8 JSON that goes on the wire. */
export function messageBytes(message: TeamsMessage): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

interface CardLimits {
  maxReasons: number;
  maxText: number;
  maxDomains: number;
}

const LIMIT_STEPS: CardLimits[] = [
  { maxReasons: 15, maxText: 400, maxDomains: 10 },
  { maxReasons: 8, maxText: 200, maxDomains: 5 },
  { maxReasons: 4, maxText: 100, maxDomains: 2 },
  { maxReasons: 2, maxText: 60, maxDomains: 1 },
];

/** The card for one finding, cut down step by step until the envelope fits in Teams' limit. */
export function buildFindingCard(finding: Finding, links: IncidentLinks = findingLinks(finding)): AdaptiveCard {
  let card: AdaptiveCard | undefined;
  for (const limits of LIMIT_STEPS) {
    card = renderFindingCard(finding, links, limits);
    if (messageBytes(teamsMessage(card)) <= TEAMS_MAX_MESSAGE_BYTES) return card;
  }
  return card!;
}

function renderFindingCard(finding: Finding, links: IncidentLinks, limits: CardLimits): AdaptiveCard {
  const body: CardElement[] = [...headerBlocks(finding, limits), { type: 'FactSet', facts: findingFacts(finding, limits) }, ...reasonBlocks(finding, limits)];
  return {
    type: 'AdaptiveCard',
    $schema: ADAPTIVE_CARD_SCHEMA,
    version: ADAPTIVE_CARD_VERSION,
    body,
    actions: linkActions(links),
    msteams: { width: 'Full' },
  };
}

/** Title (what, to which entity), level and technique, the update of a known threat, and the suppression when there is one. */
function headerBlocks(finding: Finding, limits: CardLimits): CardElement[] {
  const detection = detectionInfo(finding.hit.detectionId);
  const technique = detection.technique ? `${detection.technique.id} ${detection.technique.name}` : detection.id;
  const blocks: CardElement[] = [
    { type: 'TextBlock', text: text(findingTitle(finding, detection.title), 200), size: 'Large', weight: 'Bolder', color: LEVEL_COLOR[finding.level], wrap: true },
    { type: 'TextBlock', text: text(`${finding.level} · score ${finding.score} · ${technique}`, 200), isSubtle: true, spacing: 'None', wrap: true },
  ];
  const update = updateText(finding);
  if (update) blocks.push({ type: 'TextBlock', text: text(update, limits.maxText), color: 'accent', weight: 'Bolder', wrap: true });
  if (finding.suppressedBy) {
    const suppressed = text(`Suppressed by ${finding.suppressedBy.rule}: ${finding.suppressedBy.reason}`, limits.maxText);
    blocks.push({ type: 'TextBlock', text: suppressed, color: 'warning', weight: 'Bolder', wrap: true });
  }
  return blocks;
}

/** The facts an analyst reads first: entities, certificate, CT and age; empty ones left out. */
function findingFacts(finding: Finding, limits: CardLimits): Array<{ title: string; value: string }> {
  const t = (s: string | undefined) => (s === undefined ? undefined : text(s, limits.maxText));
  const e = finding.hit.entities;
  const cert = finding.hit.certificate;
  const ct = finding.enrichment.ct;
  const age = finding.enrichment.certificateAge;
  const presence = ctPresence(finding.hit, finding.enrichment);
  const otherCt = finding.enrichment.ctOtherDomains ?? [];
  const ip = [e.sourceIp, e.destinationIp].filter(Boolean).join(' → ');
  const inCt = presence.inCt === true ? t(`yes (${presence.foundIn.map((w) => (w === 'fingerprint' ? 'fingerprint' : `${w} history`)).join(', ')})`) : presence.inCt === false ? 'no' : cert ? 'unknown' : undefined;
  const facts: Array<[string, string | undefined]> = [
    ['Host', t(e.host)],
    ['Account', t(e.account)],
    ['IP', ip ? t(ip) : undefined],
    ['Destination', e.destinationHost ? t(`${e.destinationHost}${e.destinationPort ? `:${e.destinationPort}` : ''}`) : undefined],
    ['Process', t(e.processName)],
    ['Command line', t(e.commandLine)],
    ['Subject', t(cert?.subject ?? cert?.subjectCommonName)],
    ['Issuer', t(cert?.issuer ?? cert?.issuerCommonName)],
    ['Fingerprint', t(cert?.sha256 ?? cert?.sha1)],
    ['Certificate age', age?.ageDays !== undefined ? `${formatDays(age.ageDays)} (from ${age.from})` : 'unknown'],
    ['CT first seen', ct ? (ct.firstSeen ? `${ct.firstSeen.slice(0, 10)} (${text(ct.domain, 100)})` : `never (${text(ct.domain, 100)})`) : 'unknown'],
    ['Recent issuance', ct ? `${ct.issuedLast7Days} in 7 days, ${ct.issuedLast30Days} in 30 days${ct.truncated ? ' (lower bound)' : ''}` : undefined],
    ['CT first seen, other names', otherCt.length > 0 ? t(otherCt.map((h) => `${h.domain} first seen ${h.firstSeen ? h.firstSeen.slice(0, 10) : 'never'}`).join('; ')) : undefined],
    ['Certificate in CT', inCt],
    ['Domains', listWithMore(e.domains, limits.maxDomains, limits.maxText)],
    ['Occurrences', occurrencesText(finding)],
    ['First seen', t(finding.firstSeen)],
    ['Last seen', t(finding.lastSeen)],
    ['Sources (hosts)', t(sourcesText(finding.sources, 'hosts', limits.maxDomains))],
    ['Sources (accounts)', t(sourcesText(finding.sources, 'accounts', limits.maxDomains))],
    ['Event time', t(finding.hit.time)],
  ];
  const missing = finding.enrichment.missing;
  if (missing.length > 0) facts.push(['Missing enrichment', t(missing.map((m) => `${m.source} (${m.reason})`).join('; '))]);
  return facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '').map(([title, value]) => ({ title, value }));
}

/** "Why": the reasons with their points, the first maxReasons of them. */
function reasonBlocks(finding: Finding, limits: CardLimits): CardElement[] {
  if (finding.reasons.length === 0) return [];
  const shown = finding.reasons.slice(0, limits.maxReasons);
  const rest = finding.reasons.length - shown.length;
  return [
    { type: 'TextBlock', text: 'Why', weight: 'Bolder', spacing: 'Medium' },
    { type: 'FactSet', facts: shown.map((r) => ({ title: `${r.points >= 0 ? '+' : ''}${r.points}`, value: text(r.reason, limits.maxText) })) },
    ...(rest > 0 ? [{ type: 'TextBlock', text: `+${rest} more`, isSubtle: true, spacing: 'None' }] : []),
  ];
}

export function linkActions(links: IncidentLinks): CardElement[] {
  const actions: CardElement[] = [];
  if (links.sentinelIncident) actions.push({ type: 'Action.OpenUrl', title: 'Open in Sentinel', url: redact(links.sentinelIncident) });
  if (links.crtsh) actions.push({ type: 'Action.OpenUrl', title: 'crt.sh', url: links.crtsh });
  if (links.attack) actions.push({ type: 'Action.OpenUrl', title: 'ATT&CK', url: links.attack });
  return actions;
}

/**
 * Card text from untrusted input: redacted, cut with an ellipsis, and with the characters that
 * would form a markdown link escaped (a CN must not become a clickable phishing link). Backslashes
 * stay as they are: Windows paths and registry keys are most of what these cards show.
 */
export function text(raw: string, max: number): string {
  const redacted = redact(raw).replace(/[\r\n\t]+/g, ' ');
  const cut = redacted.length > max ? `${redacted.slice(0, Math.max(1, max - 1))}…` : redacted;
  return escapeCardMarkdown(cut);
}

export function listWithMore(items: string[], max: number, maxText: number): string | undefined {
  if (items.length === 0) return undefined;
  const shown = items.slice(0, max).join(', ');
  const rest = items.length - Math.min(items.length, max);
  return text(shown, maxText) + (rest > 0 ? ` +${rest} more` : '');
}

function formatDays(days: number): string {
  if (days < 1) return plural(Math.round(days * 24), 'hour');
  return plural(Math.floor(days), 'day');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
