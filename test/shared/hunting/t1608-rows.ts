import { readFileSync } from 'node:fs';
import { t1608003 } from '../../../shared/detections/definitions/t1608-003.js';
import type { Row } from '../../../shared/model.js';
import type { LaColumn } from '../../helpers/log-analytics-server.js';

/**
 * Rows as the T1608.003 query projects them, for the local Log Analytics server: the raw
 * CommonSecurityLog columns plus the computed ones (TLSSubject … CertRiskScore), filled from the
 * TypeScript twin's indicators. Only rows the twin flags are returned (the KQL keeps only those).
 */

const COMPUTED: LaColumn[] = [
  { name: 'TLSSubject', type: 'string' },
  { name: 'TLSIssuer', type: 'string' },
  { name: 'SubjectCN', type: 'string' },
  { name: 'IssuerCN', type: 'string' },
  { name: 'TLSSubjectAltNames', type: 'string' },
  { name: 'DestinationHost', type: 'string' },
  { name: 'IsSelfSigned', type: 'bool' },
  { name: 'IsHostnameMismatch', type: 'bool' },
  { name: 'HasPlaceholderCn', type: 'bool' },
  { name: 'CertRiskScore', type: 'real' },
];

const INTS = new Set(['SourcePort', 'DestinationPort']);

export const T1608_COLUMNS: LaColumn[] = [
  ...t1608003.projectedColumns.map((name): LaColumn => ({ name, type: name === 'TimeGenerated' ? 'datetime' : INTS.has(name) ? 'int' : 'string' })),
  ...COMPUTED,
];

export const SAMPLE_CEF = new URL('../../../samples/workspace/CommonSecurityLog.ndjson', import.meta.url);

export function sampleCefRows(): Row[] {
  return readFileSync(SAMPLE_CEF, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

export function projectedT1608Rows(raw: readonly Row[]): Row[] {
  const params = t1608003.paramsSchema.parse({});
  const out: Row[] = [];
  for (const row of raw) {
    const e = t1608003.evaluate(row, params);
    if (!e) continue;
    const projected: Row = {};
    for (const c of t1608003.projectedColumns) projected[c] = row[c] ?? null;
    for (const c of COMPUTED) projected[c.name] = e.indicators[c.name] ?? null;
    out.push(projected);
  }
  return out;
}
