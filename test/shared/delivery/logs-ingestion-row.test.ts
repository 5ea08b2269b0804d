import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_DESCRIPTION_MAX, ALERT_TITLE_MAX, FINDINGS_COLUMNS, FINDINGS_STREAM, FINDINGS_TABLE, alertText, findingRow, registryParts } from '../../../shared/delivery/logs-ingestion-row.js';
import { loadBicepFile, repoRoot } from '../../infra/bicep-tree.js';
import { oversizedFinding, sampleFinding, seaTurtleFinding } from './fixtures.js';

/**
 * The custom table's schema, the data collection rule's stream declaration and the row the code
 * sends are one contract: the same column names, in the same order, with matching types.
 */
const read = (relative: string): unknown => JSON.parse(readFileSync(path.join(repoRoot, relative), 'utf8'));

/** A value fits a Log Analytics column type as the Logs Ingestion API maps JSON onto it. */
function fits(type: string, value: unknown): boolean {
  if (value === null) return true;
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'int':
    case 'long':
      return Number.isInteger(value);
    case 'real':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'dateTime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) && value.endsWith('Z');
    case 'dynamic':
      return typeof value === 'object';
    default:
      return false;
  }
}

describe('findings table contract', () => {
  const table = read('infra/tables/findings-table-columns.json') as Array<{ name: string; type: string }>;
  const stream = read('infra/tables/findings-stream-columns.json') as Array<{ name: string; type: string }>;

  it('the table schema Bicep deploys is FINDINGS_COLUMNS, with TimeGenerated as a dateTime', () => {
    expect(table.map((c) => [c.name, c.type])).toEqual(FINDINGS_COLUMNS.map((c) => [c.name, c.type]));
    expect(table.find((c) => c.name === 'TimeGenerated')?.type).toBe('dateTime');
    expect(FINDINGS_TABLE).toMatch(/_CL$/);
  });

  it('the DCR stream declares the same columns in the DCR spelling of the types', () => {
    expect(stream.map((c) => c.name)).toEqual(table.map((c) => c.name));
    for (const [i, c] of stream.entries()) expect(c.type, c.name).toBe(table[i]!.type === 'dateTime' ? 'datetime' : table[i]!.type);
    expect(FINDINGS_STREAM).toBe(`Custom-${FINDINGS_TABLE}`);
  });

  it('the Bicep table and DCR load exactly these generated files and route the stream to the table', () => {
    const tableBicep = loadBicepFile(path.join(repoRoot, 'infra/modules/findings-table.bicep')).source;
    const dcrBicep = loadBicepFile(path.join(repoRoot, 'infra/modules/findings-dcr.bicep')).source;
    expect(tableBicep).toContain("loadJsonContent('../tables/findings-table-columns.json')");
    expect(tableBicep).toContain(`name: '${FINDINGS_TABLE}'`);
    expect(dcrBicep).toContain("loadJsonContent('../tables/findings-stream-columns.json')");
    expect(dcrBicep).toContain("var streamName = 'Custom-${tableName}'");
    expect(dcrBicep).toMatch(/outputStream: streamName/);
  });

  it('every row the code sends has exactly the columns, each value of its column type', () => {
    for (const finding of [sampleFinding(), oversizedFinding(), seaTurtleFinding(), sampleFinding({ id: 'bare', level: 'High' })]) {
      const row = findingRow(finding);
      expect(Object.keys(row)).toEqual(FINDINGS_COLUMNS.map((c) => c.name));
      for (const c of FINDINGS_COLUMNS) expect(fits(c.type, row[c.name]), `${c.name}=${JSON.stringify(row[c.name])}`).toBe(true);
      expect(row['ThreatId']).toBe(finding.threatId ?? finding.id);
      expect(['Informational', 'Low', 'Medium', 'High']).toContain(row['Severity']);
    }
  });

  it('takes the threat id, key, occurrences and sources when the finding carries them, and marks an update', () => {
    const sources = { hosts: [{ name: 'WKS-1', count: 5 }], accounts: [], hostsOmitted: 0, accountsOmitted: 0 };
    const finding = { ...sampleFinding(), threatId: 'threat-1', threatKey: 'T1608.003 203.0.113.50:443', occurrences: 7, firstSeen: '2026-11-20T10:00:00Z', lastSeen: '2026-11-20T11:00:00Z', sources };
    const row = findingRow(finding);
    expect([row['ThreatId'], row['ThreatKey'], row['Occurrences'], row['FirstSeen'], row['LastSeen'], row['Sources'], row['IsUpdate']]).toEqual([
      'threat-1',
      'T1608.003 203.0.113.50:443',
      7,
      '2026-11-20T10:00:00.000Z',
      '2026-11-20T11:00:00.000Z',
      sources,
      false,
    ]);
    const update = findingRow(Object.assign({}, finding, { update: { newOccurrences: 2 } }));
    expect(update['IsUpdate']).toBe(true);
    expect(update['ThreatId']).toBe('threat-1');
    expect(String(update['Title'])).toMatch(/^Update: /);
  });

  it('escapes markup and caps alert text at the portal limits, never inside an entity', () => {
    expect(alertText('<img src=x onerror=alert(1)> & "q"', 256)).toBe('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;');
    const long = alertText('<'.repeat(1000), ALERT_TITLE_MAX);
    expect(long.length).toBeLessThanOrEqual(ALERT_TITLE_MAX);
    expect(long).toMatch(/^(&lt;)+…$/);
    const row = findingRow(oversizedFinding());
    expect(String(row['Title']).length).toBeLessThanOrEqual(ALERT_TITLE_MAX);
    expect(String(row['Description']).length).toBeLessThanOrEqual(ALERT_DESCRIPTION_MAX);
    expect(Buffer.byteLength(JSON.stringify(row))).toBeLessThan(200_000);
  });

  it('splits the registry hive from the key as the RegistryKey entity wants', () => {
    expect(registryParts('HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT')).toEqual({ hive: 'HKEY_LOCAL_MACHINE', key: 'SOFTWARE\\Microsoft\\SystemCertificates\\ROOT' });
    expect(registryParts('HKU\\S-1-5-21-1\\Software')).toEqual({ hive: 'HKEY_USERS', key: 'S-1-5-21-1\\Software' });
    expect(registryParts('SOFTWARE\\X')).toEqual({ key: 'SOFTWARE\\X' });
  });
});
