import type { Enrichment, Finding, Hit, Level } from './model.js';
import { errorMessage } from './redact.js';
import { makeFinding } from './scoring/finding.js';
import { findSuppression } from './scoring/score.js';
import type { Tuning } from './scoring/tuning.js';
import { type KnownThreatStore, MemoryKnownThreats } from './state/known-threats.js';
import { DEFAULT_THREAT_SETTINGS, type ThreatSettings, type ThreatTracking, trackThreats } from './threats/track-threats.js';

/**
 * hits → threats → enrich → score → finding → deliver, in one process. The CLI runs it over a
 * hunt's hits: one finding per threat (shared/threats/), enriched once; the queue functions run the
 * same steps one message at a time (findingForHit), a message carrying one threat.
 */

/** Adds CT history, certificate age and probe results to a hit. */
export interface HitEnricher {
  enrich(hit: Hit): Promise<Enrichment>;
}

export interface PipelineOptions {
  tuning: Tuning;
  /** Without one, findings are scored on base signals and say that enrichment is missing. */
  enricher?: HitEnricher;
  now?: () => Date;
  /** Hits enriched at once; the enricher has its own crt.sh cap, this only bounds memory. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Known threats (updates instead of new incidents); default: memory, so only this run's rows count. */
  threatStore?: KnownThreatStore;
  threatSettings?: ThreatSettings;
  /** Told how the hits were grouped (threats, unattributed certificate-less sessions). */
  onThreats?: (tracking: ThreatTracking, hits: number) => void;
}

const LEVEL_RANK: Record<Level, number> = { High: 3, Medium: 2, Low: 1, Informational: 0 };

/** One hit to one finding. An enricher that throws never loses the hit: it is scored without enrichment. */
export async function findingForHit(hit: Hit, options: Pick<PipelineOptions, 'tuning' | 'enricher' | 'now'>): Promise<Finding> {
  const now = options.now ?? (() => new Date());
  const enrichment = options.enricher ? await safeEnrich(options.enricher, hit, now) : unenriched(now(), 'no enricher configured', false);
  return makeFinding(hit, enrichment, options.tuning, now());
}

/** Every hit (duplicates by detection and key dropped) to findings, best first: one finding per threat. */
export async function findingsForHits(hits: Hit[], options: PipelineOptions): Promise<Finding[]> {
  const unique = uniqueHits(hits);
  const isSuppressed = (hit: Hit) => findSuppression(hit, options.tuning) !== undefined;
  const tracking = await trackThreats(unique, options.threatStore ?? new MemoryKnownThreats(), options.threatSettings ?? DEFAULT_THREAT_SETTINGS, options.now, isSuppressed);
  options.onThreats?.(tracking, unique.length);
  const threats = tracking.threats;
  const findings: Finding[] = new Array(threats.length);
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let next = 0;
  let done = 0;
  options.onProgress?.(0, threats.length);
  const worker = async () => {
    while (next < threats.length) {
      const index = next++;
      findings[index] = await findingForHit(threats[index]!, options);
      done += 1;
      options.onProgress?.(done, threats.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, threats.length) }, worker));
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

async function safeEnrich(enricher: HitEnricher, hit: Hit, now: () => Date): Promise<Enrichment> {
  try {
    return await enricher.enrich(hit);
  } catch (err) {
    return unenriched(now(), `enrichment failed: ${errorMessage(err)}`, true);
  }
}

function unenriched(at: Date, reason: string, retryable: boolean): Enrichment {
  return {
    missing: [
      { source: 'crtsh', reason, retryable },
      { source: 'certificate_age', reason, retryable },
    ],
    enrichedAt: at.toISOString(),
  };
}
