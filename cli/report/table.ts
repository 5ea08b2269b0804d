import type { Finding } from '../../shared/model.js';
import { terminalSafe } from '../../shared/text/escape.js';
import { entityLabel, topReasons } from './summary.js';

/** The summary table for people: one line per finding (threat) with its row count; suppressed ones say which rule. */
export function findingsTable(findings: Finding[]): string {
  const header = ['DETECTION', 'ENTITY', 'ROWS', 'SOURCES', 'SCORE', 'LEVEL', 'TOP REASONS'];
  const rows = findings.map((f) => [
    // Cells carry log text: terminalSafe keeps ANSI escapes from acting on the terminal.
    f.hit.detectionId,
    entityLabel(f.hit),
    `${f.occurrences}${f.update ? ' (upd)' : ''}`,
    String(f.sources.hosts.length + f.sources.hostsOmitted),
    String(f.score),
    f.suppressedBy ? `${f.level}*` : f.level,
    f.suppressedBy ? `suppressed by ${f.suppressedBy.rule}; ${topReasons(f)}` : topReasons(f),
  ].map(terminalSafe));
  const widths = header.map((h, c) => Math.min(c === 1 ? 48 : 24, Math.max(h.length, ...rows.map((r) => r[c]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : fit(cell, widths[c]!)))
      .join('  ')
      .trimEnd();
  const footnote = findings.some((f) => f.suppressedBy) ? '* suppressed: scored, kept in the report, not delivered\n' : '';
  return [line(header), ...rows.map(line)].join('\n') + '\n' + footnote;
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}
