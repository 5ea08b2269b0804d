import { type Finding, type Hit, LEVEL_RANK } from './model.js';
import { mapLimit } from './state/limit.js';
import { type EnrichAndScoreDeps, type HitEnricher, findingForHit } from './use-cases/enrich-and-score.js';

export { type HitEnricher, findingForHit };

/**
 * hit → enrich → score → finding → deliver, in one process. The CLI runs it over a hunt's hits;
 * the queue functions run the same step one message at a time (use-cases/enrich-and-score.ts).
 */

export interface PipelineOptions extends EnrichAndScoreDeps {
  /** Hits enriched at once; the enricher has its own crt.sh cap, this only bounds memory. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Every hit (duplicates by detection and key dropped) to findings, best first. */
export async function findingsForHits(hits: Hit[], options: PipelineOptions): Promise<Finding[]> {
  const unique = uniqueHits(hits);
  let done = 0;
  options.onProgress?.(0, unique.length);
  const findings = await mapLimit(unique, Math.max(1, options.concurrency ?? 8), async (hit) => {
    const finding = await findingForHit(hit, options);
    options.onProgress?.((done += 1), unique.length);
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
      b.hit.time.localeCompare(a.hit.time) ||
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
