import { createHash } from 'node:crypto';
import type { Finding, Level } from '../model.js';
import { ADAPTIVE_CARD_SCHEMA, ADAPTIVE_CARD_VERSION, type AdaptiveCard, type CardElement, LEVEL_COLOR, messageBytes, TEAMS_MAX_MESSAGE_BYTES, teamsMessage, text } from './card.js';
import { detectionInfo } from './detection-info.js';
import { primaryEntity } from './incident.js';
import { findingLinks } from './links.js';
import { redact } from '../redact.js';

/** One card for a run with many findings: a table (level, detection, entity, score), highest first. */

/**
 * What one row of the digest needs from a finding. The Functions path stores it with the pending
 * Teams entry (a few hundred bytes, where the whole finding could pass a table property's 64 KB)
 * and builds the digest from these rows later.
 */
export interface DigestRow {
  id: string;
  level: Level;
  score: number;
  detectionId: string;
  entity: string;
  suppressed: boolean;
  /** Rows the finding's threat stands for (absent in rows stored before threats). */
  occurrences?: number;
  /** True when the finding updates a threat already reported. */
  update?: boolean;
  /** Where the analyst goes from this row: the Sentinel incident, else crt.sh, else the ATT&CK page. */
  link?: string;
}

export function digestRow(finding: Finding): DigestRow {
  const links = findingLinks(finding);
  const link = links.sentinelIncident ?? links.crtsh ?? links.attack;
  return {
    ...(link ? { link: redact(link) } : {}),
    id: finding.id,
    level: finding.level,
    score: finding.score,
    detectionId: detectionInfo(finding.hit.detectionId).id,
    entity: (primaryEntity(finding) ?? '(none)').slice(0, 200),
    suppressed: Boolean(finding.suppressedBy),
    occurrences: finding.occurrences,
    ...(finding.update ? { update: true } : {}),
  };
}

const LEVEL_RANK: Record<Level, number> = { High: 3, Medium: 2, Low: 1, Informational: 0 };

/** Stable id of a digest: the same set of findings always gives the same id (ledger, Idempotency-Key). */
export function digestId(findings: Array<{ id: string }>): string {
  const ids = findings.map((f) => f.id).sort();
  return `digest-${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
}

export function buildDigestCard(findings: Finding[]): AdaptiveCard {
  return buildDigestCardFromRows(findings.map(digestRow));
}

export function buildDigestCardFromRows(findings: DigestRow[]): AdaptiveCard {
  let card: AdaptiveCard | undefined;
  for (const maxRows of [50, 30, 15, 8]) {
    card = renderDigest(findings, maxRows);
    if (messageBytes(teamsMessage(card)) <= TEAMS_MAX_MESSAGE_BYTES) return card;
  }
  return card!;
}

/** The entity, with the rows its threat stands for and whether it is an update; a link opens the finding. */
function entityCell(f: DigestRow): CardElement {
  const label = text(f.entity, 80) + (f.occurrences && f.occurrences > 1 ? ` ×${f.occurrences} rows` : '') + (f.update ? ' (update)' : '');
  const cell: CardElement = { type: 'TableCell', items: [{ type: 'TextBlock', text: label, wrap: true, ...(f.link && /^https:\/\//i.test(f.link) ? { color: 'Accent' } : {}) }] };
  return f.link && /^https:\/\//i.test(f.link) ? { ...cell, selectAction: { type: 'Action.OpenUrl', title: 'Open', url: f.link } } : cell;
}

function renderDigest(findings: DigestRow[], maxRows: number): AdaptiveCard {
  const sorted = [...findings].sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || b.score - a.score);
  const shown = sorted.slice(0, maxRows);
  const rest = sorted.length - shown.length;
  const counts = (['High', 'Medium', 'Low', 'Informational'] as Level[])
    .map((l) => [l, findings.filter((f) => f.level === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${n} ${l}`)
    .join(' · ');
  const top = sorted[0]?.level ?? 'Informational';
  const suppressed = findings.filter((f) => f.suppressed).length;
  const cell = (value: string, extra: Record<string, unknown> = {}): CardElement => ({
    type: 'TableCell',
    items: [{ type: 'TextBlock', text: value, wrap: true, ...extra }],
  });
  const rows: CardElement[] = [
    { type: 'TableRow', cells: [cell('Level', { weight: 'Bolder' }), cell('Detection', { weight: 'Bolder' }), cell('Entity', { weight: 'Bolder' }), cell('Score', { weight: 'Bolder' })] },
    ...shown.map((f) => ({
      type: 'TableRow',
      cells: [
        cell(f.level + (f.suppressed ? ' (suppressed)' : ''), { color: LEVEL_COLOR[f.level] }),
        cell(text(f.detectionId, 40)),
        entityCell(f),
        cell(String(f.score)),
      ],
    })),
  ];
  const body: CardElement[] = [
    { type: 'TextBlock', text: `certsoar: ${findings.length} findings in this run`, size: 'Large', weight: 'Bolder', color: LEVEL_COLOR[top], wrap: true },
    { type: 'TextBlock', text: `${counts}${suppressed > 0 ? ` · ${suppressed} suppressed` : ''}`, isSubtle: true, spacing: 'None', wrap: true },
    {
      type: 'Table',
      firstRowAsHeaders: true,
      showGridLines: true,
      columns: [{ width: 2 }, { width: 2 }, { width: 5 }, { width: 1 }],
      rows,
    },
  ];
  if (rest > 0) body.push({ type: 'TextBlock', text: `+${rest} more`, isSubtle: true });
  return { type: 'AdaptiveCard', $schema: ADAPTIVE_CARD_SCHEMA, version: ADAPTIVE_CARD_VERSION, body, msteams: { width: 'Full' } };
}
