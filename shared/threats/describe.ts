import type { Finding, ThreatSources } from '../model.js';

/** Short texts about a finding's threat for cards, the CLI table and the report. */

/** "376 rows" / "1 row", with how many came without a certificate. */
export function occurrencesText(finding: Pick<Finding, 'occurrences' | 'hit'>): string {
  const n = finding.occurrences;
  const without = finding.hit.threat?.withoutCertificate ?? 0;
  return `${n} row${n === 1 ? '' : 's'}${without > 0 ? ` (${without} without a certificate, attributed by endpoint)` : ''}`;
}

/** "10.0.1.6 ×376, 10.0.1.7 ×2 +3 more" for hosts or accounts; undefined when none. */
export function sourcesText(sources: ThreatSources, kind: 'hosts' | 'accounts', max: number): string | undefined {
  const list = sources[kind];
  const omitted = kind === 'hosts' ? sources.hostsOmitted : sources.accountsOmitted;
  if (list.length === 0 && omitted === 0) return undefined;
  const shown = list.slice(0, max).map((s) => `${s.name} ×${s.count}`);
  const more = list.length - shown.length + omitted;
  return `${shown.join(', ')}${more > 0 ? ` +${more} more` : ''}`;
}

/** "update of threat <id>: +N rows since <time>[, new sources …]" or undefined for a new threat. */
export function updateText(finding: Pick<Finding, 'update' | 'threatId'>): string | undefined {
  const u = finding.update;
  if (!u) return undefined;
  const fresh = u.newSources.length > 0 ? `; new sources: ${u.newSources.slice(0, 5).join(', ')}${u.newSources.length > 5 ? ` +${u.newSources.length - 5} more` : ''}` : '';
  return `Update of threat ${finding.threatId} (first reported ${u.firstReportedAt}): +${u.newOccurrences} row${u.newOccurrences === 1 ? '' : 's'} after ${u.previousOccurrences} up to ${u.previousLastSeen}${fresh}`;
}
