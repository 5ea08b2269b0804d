import { parseDuration } from '../duration.js';
import { kqlTimespan } from '../kql/literals.js';

/**
 * The time filter of a Sentinel scheduled rule's query (rules mode): exactly one frequency window
 * by ingestion time, inside a TimeGenerated bound of frequency + margin, as Microsoft's "Handle
 * ingestion delay in scheduled analytics rules" describes:
 *   | where ingestion_time() > ago(<frequency>) and TimeGenerated > ago(<frequency + margin>)
 * Consecutive runs (every <frequency>) then see each row once, whenever it arrived, as long as it
 * arrived within <margin> of its TimeGenerated; the rule's queryPeriod is frequency + margin.
 */
export function ruleTimeFilter(frequency: string, margin: string, timeColumn = 'TimeGenerated'): string {
  const f = parseDuration(frequency);
  const m = parseDuration(margin);
  if (f === undefined || m === undefined || f <= 0 || m < 0) throw new RangeError(`rule window needs durations, got ${frequency} and ${margin}`);
  return `| where ingestion_time() > ago(${kqlTimespan(f)}) and ${timeColumn} > ago(${kqlTimespan(f + m)})`;
}
