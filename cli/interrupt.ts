import type { HitEnricher } from '../shared/pipeline.js';

/**
 * Ctrl-C during a hunt: the enrichments still running stop at once (their findings are scored
 * on base signals and say enrichment is missing), so the run still writes what it found.
 */
export function interruptible(enricher: HitEnricher, signal: AbortSignal | undefined): HitEnricher {
  if (!signal) return enricher;
  return {
    enrich: (hit) => {
      if (signal.aborted) return Promise.reject(new Error('interrupted (Ctrl-C)'));
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(new Error('interrupted (Ctrl-C)'));
        signal.addEventListener('abort', onAbort, { once: true });
        enricher.enrich(hit).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
  };
}
