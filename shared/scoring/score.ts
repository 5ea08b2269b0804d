import type { Enrichment, Hit, Level, Score, Signal } from '../model.js';
import { enrichmentSignals } from './enrichment-signals.js';
import { findSuppression } from './suppressions.js';
import type { Tuning } from './tuning.js';

/**
 * The one scorer every entry point uses: base signals from the detection's twin, enrichment
 * signals from CT and certificate age, then suppressions. Pure: same input, same answer.
 */
export function score(hit: Hit, enrichment: Enrichment | undefined, tuning: Tuning): Score {
  const reasons: Signal[] = [...hit.signals, ...(enrichment ? enrichmentSignals(hit, enrichment, tuning) : [])];
  const total = reasons.reduce((sum, s) => sum + s.points, 0);
  const suppressedBy = findSuppression(hit, tuning);
  return { score: total, level: levelFor(total, tuning), reasons, ...(suppressedBy ? { suppressedBy } : {}) };
}

export function levelFor(points: number, tuning: Pick<Tuning, 'levels'>): Level {
  if (points >= tuning.levels.high) return 'High';
  if (points >= tuning.levels.medium) return 'Medium';
  if (points >= tuning.levels.low) return 'Low';
  return 'Informational';
}

export { findSuppression } from './suppressions.js';
