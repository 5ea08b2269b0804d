import type { Enrichment, Hit, Level, Score, Signal, Suppression } from '../model.js';
import { enrichmentSignals } from './enrichment-signals.js';
import { anyGlob, inRanges } from './match.js';
import type { SuppressionRule, Tuning } from './tuning.js';

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

export function findSuppression(hit: Hit, tuning: Pick<Tuning, 'suppressions'>): Suppression | undefined {
  const rule = tuning.suppressions.find((r) => ruleMatches(r, hit));
  return rule ? { rule: rule.id, reason: rule.reason } : undefined;
}

function ruleMatches(rule: SuppressionRule, hit: Hit): boolean {
  if (rule.detections.length > 0 && !rule.detections.includes(hit.detectionId)) return false;
  const e = hit.entities;
  const c = hit.certificate;
  const w = rule.when;
  const checks: Array<[string[] | undefined, () => boolean]> = [
    [w.issuer, () => anyGlob(w.issuer!, c?.issuer) || anyGlob(w.issuer!, c?.issuerCommonName)],
    [w.subject, () => anyGlob(w.subject!, c?.subject) || anyGlob(w.subject!, c?.subjectCommonName)],
    [w.destinationHost, () => anyGlob(w.destinationHost!, e.destinationHost)],
    [w.host, () => anyGlob(w.host!, e.host) || anyGlob(w.host!, e.destinationHost)],
    [w.account, () => anyGlob(w.account!, e.account)],
    [w.processName, () => anyGlob(w.processName!, e.processName)],
    [w.parentProcessName, () => anyGlob(w.parentProcessName!, e.parentProcessName)],
    [w.commandLine, () => anyGlob(w.commandLine!, e.commandLine)],
    [w.filePath, () => anyGlob(w.filePath!, e.filePath)],
    [w.registryKey, () => anyGlob(w.registryKey!, e.registryKey)],
    [w.sourceIp, () => inRanges(w.sourceIp!, e.sourceIp)],
    [w.destinationIp, () => inRanges(w.destinationIp!, e.destinationIp)],
    [w.signal, () => hit.signals.some((s) => anyGlob(w.signal!, s.id))],
    [w.onlySignals, () => hit.signals.every((s) => anyGlob(w.onlySignals!, s.id))],
  ];
  return checks.every(([patterns, test]) => !patterns || patterns.length === 0 || test());
}
