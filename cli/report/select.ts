import type { Finding, Level } from '../../shared/model.js';

/** --min-level and --limit: which findings a run prints, writes and delivers (they arrive sorted, highest first). */
export const LEVELS: readonly Level[] = ['Informational', 'Low', 'Medium', 'High'];

export function parseLevel(text: string): Level | undefined {
  return LEVELS.find((l) => l.toLowerCase() === text.trim().toLowerCase());
}

export interface Selection {
  minLevel?: Level;
  limit?: number;
}

export function selectFindings(findings: readonly Finding[], selection: Selection): { shown: Finding[]; left: number } {
  const floor = selection.minLevel ? LEVELS.indexOf(selection.minLevel) : 0;
  const atLevel = findings.filter((f) => LEVELS.indexOf(f.level) >= floor);
  const shown = selection.limit === undefined ? atLevel : atLevel.slice(0, selection.limit);
  return { shown, left: findings.length - shown.length };
}
