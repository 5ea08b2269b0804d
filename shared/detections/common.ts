import { hash } from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import type { Row } from '../model.js';
import { kqlDatetime, kqlTimespan } from '../kql/literals.js';
import { ruleTimeFilter } from './rule-window.js';
import type { QueryWindow, RuleWindow } from './types.js';

/** Helpers every detection shares: reading rows, stable keys, parameter types and time filters. */

/** A column as trimmed text; undefined when absent or empty. */
export function text(row: Row, column: string): string | undefined {
  const v = row[column];
  if (v === undefined || v === null) return undefined;
  const s = (v instanceof Date ? v.toISOString() : String(v)).trim();
  return s === '' ? undefined : s;
}

/** The event time as ISO-8601 UTC (first parseable of the columns); the raw text when unparseable. */
export function eventTime(row: Row, columns: readonly string[]): string {
  for (const c of columns) {
    const s = text(row, c);
    if (s === undefined) continue;
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? s : d.toISOString();
  }
  return '';
}

/** Same detection and same identifying fields → same key. */
export function stableKey(detectionId: string, parts: ReadonlyArray<string | number | undefined>): string {
  // One-shot hash: the same digest as createHash().update().digest(), without a Hash object per row.
  return hash('sha256', JSON.stringify([detectionId, ...parts.map((p) => (p === undefined ? null : String(p).toLowerCase()))]), 'hex').slice(0, 32);
}


/** A DNS name as a certificate or a CT lookup would carry it (not an IP address). */
export const DNS_NAME_SOURCE = '^(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*\\.[a-z][a-z0-9-]*$';

/** Lists in parameters: non-empty strings. */
export const stringList = (defaults: string[]) => z.array(z.string().min(1)).default(defaults);

/** A duration parameter kept as text ("24h") and checked. */
export const durationText = (fallback: string) =>
  z
    .string()
    .refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration like 15m, 24h or 7d' })
    .default(fallback);

/**
 * The time filter: with a window, rows ingested in [start, end) plus a TimeGenerated guard that
 * lets Log Analytics prune partitions; without one, the analytics-rule form over the lookback.
 */
export function timeFilter(lookback: string, window: QueryWindow | RuleWindow | undefined, timeColumn = 'TimeGenerated'): string {
  // Rules mode: one ingestion window of the rule's frequency per run (rule-window.ts).
  if (window && 'frequency' in window) return ruleTimeFilter(window.frequency, window.margin, timeColumn);
  const lookbackMs = parseDuration(lookback);
  if (lookbackMs === undefined) throw new RangeError(`not a duration: ${lookback}`);
  if (!window) return `| where ${timeColumn} > ago(${kqlTimespan(lookbackMs)})`;
  if (!(window.start.getTime() < window.end.getTime())) throw new RangeError('window start must be before its end');
  const guard = new Date(window.start.getTime() - lookbackMs);
  return [
    `| where ingestion_time() >= ${kqlDatetime(window.start)} and ingestion_time() < ${kqlDatetime(window.end)}`,
    `| where ${timeColumn} >= ${kqlDatetime(guard)}`,
  ].join('\n');
}
