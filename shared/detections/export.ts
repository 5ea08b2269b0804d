import type { Tuning } from '../scoring/tuning.js';
import { DETECTIONS, detectionParams } from './index.js';
import { detectionRuleQuery, RULE_INGESTION_MARGIN } from './sentinel-rule.js';
import type { Detection } from './types.js';

/**
 * The detections as Sentinel analytics-rule queries (rules mode): one ingestion-time window of the
 * rule's frequency per run (shared/detections/rule-window.ts), with the parameters in force under
 * the given tuning, one file per detection named by its id.
 */
export interface ExportedQuery {
  id: string;
  fileName: string;
  kql: string;
}

export function exportKql(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): ExportedQuery[] {
  return detections.map((d) => ({ id: d.meta.id, fileName: `${d.meta.id}.kql`, kql: `${header(d)}\n${detectionRuleQuery(d, detectionParams(d, tuning))}\n` }));
}

function header(d: Detection): string {
  const m = d.meta;
  // One short line: Sentinel counts comments in its 10,000-character query limit.
  return `// certsoar ${m.id}, rules mode: each run reads the rows ingested in the last ${m.queryFrequency} (margin ${RULE_INGESTION_MARGIN}).`;
}
