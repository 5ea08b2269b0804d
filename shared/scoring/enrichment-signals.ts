import type { Enrichment, Hit, Signal } from '../model.js';
import type { Tuning } from './tuning.js';

/**
 * Signals from enrichment (DESIGN.md, Scoring): recent certificate, new domain in CT, absent
 * from CT though a public CA issued it, issuance burst, own domain served from outside the
 * organisation's ranges (Sea Turtle), self-signed root naming a well-known vendor, lookalike
 * of an organisation domain. Filled by the enrichment work.
 */
export function enrichmentSignals(_hit: Hit, _enrichment: Enrichment, _tuning: Tuning): Signal[] {
  return [];
}
