import type { Enrichment, Finding, Hit } from '../model.js';
import { withProbeVerdicts } from '../observables.js';
import { errorMessage } from '../redact.js';
import { makeFinding } from '../scoring/finding.js';
import type { Tuning } from '../scoring/tuning.js';

/** Adds CT history, certificate age and probe results to a hit. */
export interface HitEnricher {
  /** `signal`: stop the lookups still running (a request deadline); what they did not get is listed as missing. */
  enrich(hit: Hit, options?: { signal?: AbortSignal }): Promise<Enrichment>;
}

export interface EnrichAndScoreDeps {
  tuning: Tuning;
  /** Without one, findings are scored on base signals and say that enrichment is missing. */
  enricher?: HitEnricher;
  now?: () => Date;
}

/**
 * The one enrich-then-score step, behind every entry point (POST /api/enrich, the hits queue, the
 * CLI's hunt and enrich). A probed observable takes the probe's verdicts about its certificate as
 * base signals (withProbeVerdicts), so it scores as a logged certificate would. An enricher that
 * throws never loses the hit: it is scored without enrichment and the finding says, retryably,
 * what is missing.
 */
export async function findingForHit(hit: Hit, deps: EnrichAndScoreDeps, options: { signal?: AbortSignal } = {}): Promise<Finding> {
  const now = deps.now ?? (() => new Date());
  const enrichment = deps.enricher ? await safeEnrich(deps.enricher, hit, now, options.signal) : unenriched(now(), 'no enricher configured', false);
  return makeFinding(withProbeVerdicts(hit, enrichment.tlsProbe, deps.tuning), enrichment, deps.tuning, now());
}

async function safeEnrich(enricher: HitEnricher, hit: Hit, now: () => Date, signal: AbortSignal | undefined): Promise<Enrichment> {
  try {
    return await enricher.enrich(hit, signal ? { signal } : {});
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

/** The sources a finding lacks that a later run could still add (for the log line). */
export function retryableMissing(finding: Finding): string[] {
  return [...new Set(finding.enrichment.missing.filter((m) => m.retryable).map((m) => m.source))];
}
