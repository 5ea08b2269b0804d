import { createHash } from 'node:crypto';
import type { Enrichment, Finding, Hit } from '../model.js';
import { findingThreatFields } from '../threats/finding-fields.js';
import { score } from './score.js';
import type { Tuning } from './tuning.js';

/** The finding id is derived from the hit, so the same hit always yields the same finding id. */
export function findingId(hit: Pick<Hit, 'detectionId' | 'key'>): string {
  return createHash('sha256').update(`${hit.detectionId}\u0000${hit.key}`).digest('hex').slice(0, 32);
}

/**
 * Scores a hit with its enrichment: the one way every entry point turns a hit into a finding. A hit
 * that stands for a threat (hit.threat) gives the threat's occurrences, event times and sources.
 */
export function makeFinding(hit: Hit, enrichment: Enrichment, tuning: Tuning, now: Date = new Date()): Finding {
  return { ...findingThreatFields(hit, findingId(hit)), hit, enrichment, ...score(hit, enrichment, tuning), scoredAt: now.toISOString() };
}
