import { type Finding, type Hit, LEVEL_RANK } from './model.js';
import { findSuppression } from './scoring/score.js';
import { mapLimit } from './state/limit.js';
import { type KnownThreatStore, MemoryKnownThreats } from './state/known-threats.js';
import { DEFAULT_THREAT_SETTINGS, type ThreatSettings, type ThreatTracking, trackThreats } from './threats/track-threats.js';
import { type EnrichAndScoreDeps, type HitEnricher, findingForHit } from './use-cases/enrich-and-score.js';

export { type HitEnricher, findingForHit };

/**
 * hits → threats → enrich → score → finding → deliver, in one process. The CLI runs it over a
 * hunt's hits: one finding per threat (shared/threats/), enriched once; the queue functions run the
 * same step one message at a time (use-cases/enrich-and-score.ts), a message carrying one threat.
 */

export interface PipelineOptions extends EnrichAndScoreDeps {
  /** Hits enriched at once; the enricher has its own crt.sh cap, this only bounds memory. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Known threats (updates instead of new incidents); default: memory, so only this run's rows count. */
  threatStore?: KnownThreatStore;
  threatSettings?: ThreatSettings;
  /** Told how the hits were grouped (threats, unattributed certificate-less sessions). */
  onThreats?: (tracking: ThreatTracking, hits: number) => void;
}

/** Every hit (duplicates by detection and key dropped) to findings, best first: one finding per threat. */
export async function findingsForHits(hits: Hit[], options: PipelineOptions): Promise<Finding[]> {
  const unique = uniqueHits(hits);
  const isSuppressed = (hit: Hit) => findSuppression(hit, options.tuning) !== undefined;
  const tracking = await trackThreats(unique, options.threatStore ?? new MemoryKnownThreats(), options.threatSettings ?? DEFAULT_THREAT_SETTINGS, options.now, isSuppressed);
  options.onThreats?.(tracking, unique.length);
  const threats = tracking.threats;
  let done = 0;
  options.onProgress?.(0, threats.length);
  const findings = await mapLimit(threats, Math.max(1, options.concurrency ?? 8), async (hit) => {
    const finding = await findingForHit(hit, options);
    options.onProgress?.((done += 1), threats.length);
    return finding;
  });
  return sortFindings(findings);
}

/** Highest score first; suppressed findings after the live ones; then level, newest, id (stable). */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      Number(Boolean(a.suppressedBy)) - Number(Boolean(b.suppressedBy)) ||
      b.score - a.score ||
      LEVEL_RANK[b.level] - LEVEL_RANK[a.level] ||
      b.occurrences - a.occurrences ||
      b.lastSeen.localeCompare(a.lastSeen) ||
      a.id.localeCompare(b.id),
  );
}

export function uniqueHits(hits: Hit[]): Hit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const id = `${h.detectionId}\u0000${h.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
