import { DETECTIONS, detectionParams, hitFromRow } from '../../shared/detections/index.js';
import type { Detection } from '../../shared/detections/types.js';
import { ValidationError } from '../../shared/errors.js';
import { rowTime, type Workspace } from '../../shared/hunting/workspace.js';
import type { Hit } from '../../shared/model.js';
import type { Tuning } from '../../shared/scoring/tuning.js';
import { relatedHit } from '../../shared/threats/related-hit.js';

/**
 * Runs the selected detections' twins over a local workspace and counts, per table, what was
 * read, used and skipped and why, so a hunt never answers "no findings" without saying what it
 * looked at.
 */
export interface TableSummary {
  table: string;
  files: number;
  read: number;
  used: number;
  skipped: Record<string, number>;
  hits: number;
}

export interface WorkspaceEvaluation {
  hits: Hit[];
  tables: TableSummary[];
}

export interface EvaluateOptions {
  detections: readonly Detection[];
  tuning: Tuning;
  /** Oldest event time kept (ms since epoch); rows before it are skipped as older than --since. */
  oldest?: number;
  sinceText?: string;
  onProgress?: (done: number, total: number) => void;
}

/** The tables the detections read: what a workspace folder may hold. */
export const WORKSPACE_TABLES: readonly string[] = [...new Set(DETECTIONS.flatMap((d) => d.meta.tables))];

const TIME_COLUMNS = new Set(['TimeGenerated', 'Timestamp', 'TenantId', 'Type', 'SourceSystem', '_ResourceId']);

export function evaluateWorkspace(workspace: Workspace, options: EvaluateOptions): WorkspaceEvaluation {
  assertColumnsFit(workspace);
  const total = options.detections.reduce((n, d) => n + d.meta.tables.reduce((m, t) => m + (workspace.get(t)?.rows.length ?? 0), 0), 0);
  const hits: Hit[] = [];
  const tables: TableSummary[] = [];
  const relatedParams = new Map<Detection, Record<string, unknown>>();
  let done = 0;
  for (const table of workspace.values()) {
    const readers = options.detections.filter((d) => d.meta.tables.includes(table.name));
    const summary: TableSummary = { table: table.name, files: table.files.length, read: table.rows.length, used: 0, skipped: {}, hits: 0 };
    tables.push(summary);
    if (readers.length === 0) {
      if (table.rows.length > 0) summary.skipped['no selected detection reads this table'] = table.rows.length;
      continue;
    }
    for (const row of table.rows) {
      done += readers.length;
      if (done % 1_000 < readers.length) options.onProgress?.(done, total);
      if (options.oldest !== undefined) {
        const t = rowTime(row);
        if (t !== undefined && t < options.oldest) {
          const reason = `older than --since ${options.sinceText ?? ''}`.trim();
          summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
          continue;
        }
      }
      summary.used += 1;
      for (const detection of readers) {
        const hit = hitFromRow(detection, row, options.tuning);
        if (hit) {
          hits.push(hit);
          summary.hits += 1;
          continue;
        }
        // Sessions without a certificate: the threat grouping attributes them to the endpoint's threat, or drops them.
        if (!detection.evaluateRelated) continue;
        let params = relatedParams.get(detection);
        if (!params) relatedParams.set(detection, (params = detectionParams(detection, options.tuning)));
        const related = relatedHit(detection, row, params);
        if (related) hits.push(related);
      }
    }
  }
  return { hits, tables };
}

/**
 * A table whose rows carry none of the columns its detections read is the wrong file under
 * the right name (another table's export, a different tool's CSV): an error, not 0 hits.
 */
function assertColumnsFit(workspace: Workspace): void {
  const problems = [];
  for (const table of workspace.values()) {
    if (table.rows.length === 0) continue;
    const readers = DETECTIONS.filter((d) => d.meta.tables.includes(table.name));
    const wanted = new Set(readers.flatMap((d) => d.projectedColumns).filter((c) => !TIME_COLUMNS.has(c)));
    const present = new Set(table.rows.slice(0, 200).flatMap((r) => Object.keys(r)));
    if (wanted.size === 0 || [...wanted].some((c) => present.has(c))) continue;
    const lookalike = closestTable(table.name, present);
    problems.push({
      path: table.files.join(', '),
      message: `none of the columns ${table.name} detections read (${[...wanted].slice(0, 6).join(', ')}, …) is in its header${lookalike ? `; it looks like ${lookalike}` : ''} (columns: ${[...present].slice(0, 6).join(', ')}${present.size > 6 ? ', …' : ''})`,
    });
  }
  if (problems.length > 0) throw new ValidationError('cannot use workspace', problems);
}

/** The table whose detections read the most of these columns. */
function closestTable(name: string, present: Set<string>): string | undefined {
  let best: string | undefined;
  let bestOverlap = 0;
  for (const t of WORKSPACE_TABLES.filter((x) => x !== name)) {
    const columns = new Set(DETECTIONS.filter((d) => d.meta.tables.includes(t)).flatMap((d) => d.projectedColumns.filter((c) => !TIME_COLUMNS.has(c))));
    const overlap = [...columns].filter((c) => present.has(c)).length;
    if (overlap > bestOverlap) {
      best = t;
      bestOverlap = overlap;
    }
  }
  return best;
}

/** One line per table: "CommonSecurityLog: 41 rows read (2 files), 12 used, 29 skipped (29 older than --since 3h), 9 hits". */
export function summaryLines(tables: readonly TableSummary[]): string {
  return tables
    .map((t) => {
      const skipped = Object.values(t.skipped).reduce((n, v) => n + v, 0);
      const why = Object.entries(t.skipped).map(([reason, n]) => `${n} ${reason}`).join(', ');
      return `${t.table}: ${t.read} row(s) read${t.files > 1 ? ` from ${t.files} files` : ''}, ${t.used} used, ${skipped} skipped${why ? ` (${why})` : ''}, ${t.hits} hit(s)\n`;
    })
    .join('');
}
