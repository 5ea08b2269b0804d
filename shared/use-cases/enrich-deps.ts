import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { type Enricher, enricherFromConfig } from '../enrichment/enricher.js';
import { type Tuning, tuningFromConfig } from '../scoring/tuning.js';

/** The enricher and tuning every enriching entry point builds from the settings (the enricher reads the tuning's free-ACME list). */
export function enrichDepsFromConfig(config: Config, credential: TokenCredential): { enricher: Enricher; tuning: Tuning } {
  const tuning = tuningFromConfig(config);
  return { enricher: enricherFromConfig(config, credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers }), tuning };
}
