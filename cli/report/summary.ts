import type { Finding, Hit } from '../../shared/model.js';

/** Short labels for a finding, shared by the terminal table and the HTML report. */

/** Who and what: the endpoint or client, then what it touched. */
export function entityLabel(hit: Hit): string {
  const e = hit.entities;
  const who = e.host ?? e.sourceIp ?? e.account;
  const what =
    e.destinationHost ??
    e.destinationIp ??
    (hit.certificate?.sha1 ? `thumbprint ${hit.certificate.sha1.slice(0, 12)}…` : undefined) ??
    (e.filePath ? lastSegment(e.filePath) : undefined) ??
    e.processName;
  return [who, what].filter(Boolean).join(' → ') || '(no entity)';
}

/** The strongest reasons, "id +points", at most `count`. */
export function topReasons(finding: Finding, count = 3): string {
  return [...finding.reasons]
    .sort((a, b) => b.points - a.points)
    .slice(0, count)
    .map((r) => `${r.id} +${r.points}`)
    .join(', ');
}

function lastSegment(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
