import { createHash } from 'node:crypto';
import type { Finding, Hit } from '../model.js';
import { summarizeHit, threatId } from './merge-rows.js';
import { threatIdentity } from './threat-key.js';

/**
 * The threat fields of a finding: from the hit's ThreatAggregate when it stands for a group of
 * rows, else those of a threat of one row (the automation-rule path, bare observables, old queue
 * messages), so every finding has them.
 */
export type FindingThreatFields = Pick<Finding, 'id' | 'threatId' | 'threatKey' | 'occurrences' | 'firstSeen' | 'lastSeen' | 'sources'> & Partial<Pick<Finding, 'update'>>;

export function findingThreatFields(hit: Hit, singleHitId: string): FindingThreatFields {
  const t = hit.threat;
  if (t) {
    return {
      // Same threat and same rows → same finding id (a redelivery); more rows → a new id (an update).
      id: createHash('sha256').update(`${t.id}\u0000${t.rowsDigest}`).digest('hex').slice(0, 32),
      threatId: t.id,
      threatKey: t.key,
      occurrences: t.occurrences,
      firstSeen: t.firstSeen,
      lastSeen: t.lastSeen,
      sources: t.sources,
      ...(t.update ? { update: t.update } : {}),
    };
  }
  const key = threatIdentity(hit).key;
  const summary = summarizeHit(hit, key);
  return {
    id: singleHitId,
    threatId: threatId(hit.detectionId, key, summary.firstSeen),
    threatKey: key,
    occurrences: 1,
    firstSeen: summary.firstSeen,
    lastSeen: summary.lastSeen,
    sources: summary.sources,
  };
}

/** Fills the threat fields a finding from before threats lacks (as a finding of one row); complete ones pass unchanged. */
export function withThreatFields(finding: Finding): Finding {
  if (finding.threatId && finding.threatKey && finding.occurrences && finding.firstSeen && finding.lastSeen && finding.sources) return finding;
  const { id: _id, ...fields } = findingThreatFields(finding.hit, finding.id);
  return { ...fields, ...stripUndefined(finding) };
}

function stripUndefined(finding: Finding): Finding {
  return Object.fromEntries(Object.entries(finding).filter(([, v]) => v !== undefined)) as unknown as Finding;
}
