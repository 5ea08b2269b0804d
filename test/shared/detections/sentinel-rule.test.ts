import { describe, expect, it } from 'vitest';
import { FINDINGS_COLUMNS, FINDINGS_TABLE } from '../../../shared/delivery/logs-ingestion-row.js';
import { DETECTIONS, detectionParams } from '../../../shared/detections/index.js';
import { kqlErrors, loadSchemas, type TableSchema } from '../../../cli/kql/kql-validator.js';
import { ruleTimeFilter } from '../../../shared/detections/rule-window.js';
import { enrichmentColumns, MAX_CUSTOM_DETAILS, MAX_ENTITY_MAPPINGS, MAX_IDENTIFIERS_PER_MAPPING, RULE_INGESTION_MARGIN, type SentinelRule, detectionRule, findingsRule, projectedOutputColumns } from '../../../shared/detections/sentinel-rule.js';
import { parseDuration } from '../../../shared/duration.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';

/** The table the findings rule reads, as the Kusto language service sees it (types from FINDINGS_COLUMNS). */
const FINDINGS_SCHEMA: TableSchema = {
  name: FINDINGS_TABLE,
  columns: FINDINGS_COLUMNS.map((c) => ({ name: c.name, type: c.type === 'dateTime' ? 'datetime' : c.type === 'boolean' ? 'bool' : c.type })),
};

/** The result columns of a query, by Kusto's own semantic analysis (kql-validator loads the service). */
function resultColumns(query: string, schemas: readonly TableSchema[]): string[] {
  kqlErrors('print 1', schemas); // loads the language service's globals
  const K = (globalThis as { Kusto?: { Language: any } }).Kusto!.Language; // eslint-disable-line @typescript-eslint/no-explicit-any
  const tables = schemas.map((t) => new K.Symbols.TableSymbol.$ctor7(t.name, `(${t.columns.map((c) => `['${c.name}']:${c.type}`).join(', ')})`, null));
  const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor1('certsoar', tables, false));
  const result = K.KustoCode.ParseAndAnalyze(query, globals).ResultType;
  const out: string[] = [];
  for (let i = 0; i < (result?.Columns?.Count ?? 0); i++) out.push(String(result.Columns.getItem(i).Name));
  return out;
}

/** Every column a rule reads from its query's results. */
function columnsTheRuleReads(rule: SentinelRule): string[] {
  const fromEntities = rule.entityMappings.flatMap((m) => m.fieldMappings.map((f) => f.columnName));
  const fromDetails = Object.values(rule.customDetails);
  const o = rule.alertDetailsOverride;
  const fromFormats = [o.alertDisplayNameFormat, o.alertDescriptionFormat].flatMap((f) => [...f.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] as string));
  const fromOverride = [o.alertSeverityColumnName, o.alertTacticsColumnName, ...o.alertDynamicProperties.map((p) => p.value)].filter((c): c is string => Boolean(c));
  return [...new Set([...fromEntities, ...fromDetails, ...fromFormats, ...fromOverride, ...rule.incidentConfiguration.groupingConfiguration.groupByCustomDetails.map((d) => rule.customDetails[d] ?? `(custom detail ${d})`)])];
}

function checkLimits(rule: SentinelRule): void {
  expect(rule.entityMappings.length, rule.key).toBeLessThanOrEqual(MAX_ENTITY_MAPPINGS);
  for (const m of rule.entityMappings) expect(m.fieldMappings.length, `${rule.key} ${m.entityType}`).toBeLessThanOrEqual(MAX_IDENTIFIERS_PER_MAPPING);
  expect(Object.keys(rule.customDetails).length, rule.key).toBeLessThanOrEqual(MAX_CUSTOM_DETAILS);
  for (const key of Object.keys(rule.customDetails)) expect(key, rule.key).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
  expect(rule.query.length, rule.key).toBeLessThanOrEqual(10_000);
}

describe('the findings rule (hunts mode)', () => {
  const rule = findingsRule(DETECTIONS);

  it('is valid KQL over the CertsoarFindings_CL schema, by the Kusto language service', () => {
    expect(kqlErrors(rule.query, [FINDINGS_SCHEMA])).toEqual([]);
    // and the check notices a column the table does not have
    expect(kqlErrors(`${rule.query}\n| project NoSuchColumn`, [FINDINGS_SCHEMA]).length).toBeGreaterThan(0);
  });

  it('projects every column its entities, custom details, alert overrides and grouping read', () => {
    const projected = resultColumns(rule.query, [FINDINGS_SCHEMA]);
    expect(projected.length).toBe(FINDINGS_COLUMNS.length);
    expect(columnsTheRuleReads(rule).filter((c) => !projected.includes(c))).toEqual([]);
    checkLimits(rule);
  });

  it('groups the alerts of one threat into one incident and names the threat in the title', () => {
    expect(rule.kind).toBe('NRT');
    expect(rule.subTechniques.sort()).toEqual(DETECTIONS.map((d) => d.meta.technique.id).sort());
    expect(rule.eventGroupingSettings.aggregationKind).toBe('AlertPerResult');
    const g = rule.incidentConfiguration.groupingConfiguration;
    expect([g.enabled, g.matchingMethod, g.groupByCustomDetails]).toEqual([true, 'Selected', ['ThreatId']]);
    expect(rule.customDetails['ThreatId']).toBe('ThreatId');
    expect(rule.alertDetailsOverride).toMatchObject({ alertDisplayNameFormat: '{{Title}}', alertSeverityColumnName: 'Severity', alertTacticsColumnName: 'Tactics' });
    for (const d of ['CertSubject', 'CertIssuer', 'CertSANs', 'CertThumbprint', 'Score', 'Reasons', 'Occurrences']) expect(Object.keys(rule.customDetails)).toContain(d);
  });
});

describe('the detection rules (rules mode)', () => {
  const schemas = loadSchemas();
  for (const detection of DETECTIONS) {
    const rule = detectionRule(detection, detectionParams(detection, DEFAULT_TUNING));

    it(`${detection.meta.id}: each run reads exactly one frequency window by ingestion_time(), inside frequency + margin`, () => {
      const windows = [...rule.query.matchAll(/\| where ingestion_time\(\) > ago\((\w+)\)/g)].map((m) => parseDuration(m[1] as string));
      expect(windows.length).toBeGreaterThanOrEqual(detection.meta.tables.length);
      const frequencyMs = parseDuration(detection.meta.queryFrequency)!;
      for (const w of windows) expect(w).toBe(frequencyMs);
      const guards = [...rule.query.matchAll(/ and TimeGenerated > ago\((\w+)\)/g)].map((m) => parseDuration(m[1] as string));
      expect(guards.length).toBe(windows.length);
      for (const g of guards) expect(g).toBe(frequencyMs + parseDuration(RULE_INGESTION_MARGIN)!);
      expect(rule.queryFrequency).toBe(detection.meta.queryFrequency === '15m' ? 'PT15M' : 'PT1H');
      expect(rule.queryPeriod).toBe(detection.meta.queryFrequency === '15m' ? 'PT1H15M' : 'PT2H');
    });

    it(`${detection.meta.id}: valid KQL whose results hold every column the rule maps, details and groups by`, () => {
      expect(kqlErrors(rule.query, schemas)).toEqual([]);
      const projected = resultColumns(rule.query, schemas);
      expect(columnsTheRuleReads(rule).filter((c) => !projected.includes(c))).toEqual([]);
      // the parse the generator uses agrees with Kusto's analysis of the compiled form
      expect(projectedOutputColumns(detection.buildQuery(detectionParams(detection, DEFAULT_TUNING)))).toEqual(
        resultColumns(detection.buildQuery(detectionParams(detection, DEFAULT_TUNING)), schemas),
      );
      checkLimits(rule);
      expect(rule.entityMappings.map((m) => m.entityType)).toContain('Host');
      expect(rule.incidentConfiguration.groupingConfiguration.groupByCustomDetails).toEqual(['CertsoarThreatKey']);
      // every raw column the evaluator reads travels in the custom details, for POST /api/enrich
      for (const c of enrichmentColumns(detection)) expect(rule.customDetails[c], c).toBe(c);
      expect(rule.requiredDataConnectors.every((c) => c.dataTypes.join() === detection.meta.tables.join())).toBe(true);
    });
  }

  it('maps the entities the issue lists, from the SNI-derived host and with hive, host parts and hash algorithm', () => {
    const rules = new Map(DETECTIONS.map((d) => [d.meta.id, detectionRule(d, detectionParams(d, DEFAULT_TUNING))]));
    const ids = (id: string, type: string) => rules.get(id)!.entityMappings.filter((m) => m.entityType === type).map((m) => m.fieldMappings.map((f) => `${f.identifier}=${f.columnName}`));
    expect(ids('T1608.003', 'DNS')).toEqual([['DomainName=DestinationHost']]);
    expect(ids('T1608.003', 'URL')).toEqual([['Url=CertsoarUrl']]);
    expect(ids('T1608.003', 'Account')[0]).toEqual(['Name=CertsoarAccountName', 'NTDomain=CertsoarAccountDomain', 'UPNSuffix=CertsoarAccountUpnSuffix']);
    expect(ids('T1588.004', 'RegistryKey')).toEqual([['Key=CertsoarRegistryKey', 'Hive=CertsoarRegistryHive']]);
    expect(ids('T1588.004', 'FileHash')).toEqual([['Value=InitiatingProcessSHA1', 'Algorithm=CertsoarHashAlgorithm']]);
    for (const id of ['T1588.004', 'T1587.003']) expect(ids(id, 'Host')[0]).toEqual(['FullName=DeviceName', 'HostName=CertsoarHostName', 'DnsDomain=CertsoarHostDnsDomain']);
    expect(ids('T1587.003', 'File')).toEqual([['Name=FileName', 'Directory=FolderPath']]);
    // Process with its id and creation time, Account with its SID (Defender XDR tables)
    expect(ids('T1588.004', 'Process')).toEqual([['CommandLine=InitiatingProcessCommandLine', 'ProcessId=InitiatingProcessId', 'CreationTimeUtc=InitiatingProcessCreationTime']]);
    expect(ids('T1588.004', 'Account')).toEqual([['Name=InitiatingProcessAccountName', 'NTDomain=InitiatingProcessAccountDomain', 'Sid=InitiatingProcessAccountSid']]);
    expect(ids('T1587.003', 'Process')).toEqual([
      ['CommandLine=ProcessCommandLine', 'ProcessId=ProcessId', 'CreationTimeUtc=ProcessCreationTime'],
      ['CommandLine=InitiatingProcessCommandLine'],
    ]);
    expect(ids('T1587.003', 'Account')).toEqual([
      ['Name=AccountName', 'NTDomain=AccountDomain', 'Sid=AccountSid'],
      ['Name=InitiatingProcessAccountName', 'NTDomain=InitiatingProcessAccountDomain', 'Sid=InitiatingProcessAccountSid'],
    ]);
  });

  it('the compiler writes the rule window for every table the detection reads, and no lookback', () => {
    expect(ruleTimeFilter('15m', '1h')).toBe('| where ingestion_time() > ago(15m) and TimeGenerated > ago(75m)');
    expect(() => ruleTimeFilter('soon', '1h')).toThrow(RangeError);
    for (const d of DETECTIONS) {
      const q = d.buildQuery(detectionParams(d, DEFAULT_TUNING), { frequency: d.meta.queryFrequency, margin: RULE_INGESTION_MARGIN });
      const windows = q.split(`ingestion_time() > ago(${d.meta.queryFrequency})`).length - 1;
      expect(windows, d.meta.id).toBeGreaterThanOrEqual(d.meta.tables.length);
      // one window per table read: each table expression is followed by its window
      const tableReads = [...q.matchAll(new RegExp(`^(?:let \\w+ = )?(?:${d.meta.tables.join('|')})$`, 'gm'))].length;
      expect(windows, d.meta.id).toBe(tableReads);
      expect(q, d.meta.id).not.toMatch(/ago\(1d\)/);
    }
  });
});
