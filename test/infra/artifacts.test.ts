import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportKql } from '../../shared/detections/export.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { infraArtifacts, type RuleMetadata } from '../../scripts/generate-infra-artifacts.js';
import { detectionEntityMappings, isoDuration } from '../../shared/detections/sentinel-rule.js';
import { sentinelTactic } from '../../shared/detections/sentinel-tactics.js';
import { bodyObject, infraDir, loadBicepFile, objectProperties, repoRoot, stringArguments, topLevel } from './bicep-tree.js';

const REGENERATE = 'run `npx tsx scripts/generate-infra-artifacts.ts`';
const read = (relative: string): string => readFileSync(path.join(repoRoot, relative), 'utf8');

/** The queries main.bicep's rules-mode modules load, by detection id → the path each loads. */
function ruleQueryPaths(): Map<string, string> {
  const file = loadBicepFile(path.join(infraDir, 'main.bicep'));
  const out = new Map<string, string>();
  for (const module of topLevel(file, 'module_declaration')) {
    if (!module.text.includes("'modules/sentinel-scheduled-rule.bicep'")) continue;
    const params = objectProperties(objectProperties(bodyObject(module)!).get('params')!);
    const rule = params.get('rule')!.text;
    const id = /r\.key == '([^']+)'/.exec(rule)?.[1] ?? '?';
    const query = params.get('query')!;
    expect(query.type === 'call_expression' && query.namedChildren[0]?.text, id).toBe('loadTextContent');
    const [relative] = stringArguments(query);
    out.set(id, path.relative(repoRoot, path.resolve(path.dirname(file.absolutePath), relative ?? '')).split(path.sep).join('/'));
  }
  return out;
}

describe('generated infra artifacts', () => {
  it(`every generated file is current (${REGENERATE})`, () => {
    for (const artifact of infraArtifacts()) expect(read(artifact.path), `${artifact.path} is stale: ${REGENERATE}`).toBe(artifact.content);
  });

  it('the analytics rules load exactly the KQL `certsoar export --format kql` produces, byte for byte', () => {
    const exported = exportKql(DEFAULT_TUNING);
    expect(exported.map((q) => q.id).sort()).toEqual(DETECTIONS.map((d) => d.meta.id).sort());
    const loaded = ruleQueryPaths();
    expect([...loaded.keys()].sort()).toEqual(exported.map((q) => q.id).sort());
    for (const q of exported) {
      expect(loaded.get(q.id)).toBe(`infra/kql/${q.fileName}`);
      expect(readFileSync(path.join(repoRoot, 'infra', 'kql', q.fileName))).toEqual(Buffer.from(q.kql, 'utf8'));
      // Sentinel rejects scheduled-rule queries longer than 10,000 characters.
      expect(q.kql.length, q.id).toBeLessThanOrEqual(10_000);
    }
  });

  it('analytics-rules.json describes every detection as Sentinel expects', () => {
    const rules = JSON.parse(read('infra/kql/analytics-rules.json')) as RuleMetadata[];
    expect(rules.map((r) => r.key)).toEqual(DETECTIONS.map((d) => d.meta.id));
    for (const rule of rules) {
      const detection = DETECTIONS.find((d) => d.meta.id === rule.key)!;
      expect(['Informational', 'Low', 'Medium', 'High']).toContain(rule.severity);
      expect(rule.queryFrequency).toMatch(/^P(T\d+[MH]|\d+D)$/);
      expect(rule.tactics.length).toBeGreaterThan(0);
      expect(rule.subTechniques).toEqual([detection.meta.technique.id]);
      expect(rule.techniques).toEqual([detection.meta.technique.id.split('.')[0]]);
      expect(rule.entityMappings.length, `${rule.key} maps no entity`).toBeGreaterThan(0);
      expect(rule.entityMappings.length).toBeLessThanOrEqual(10);
    }
  });

});

describe('generator helpers', () => {
  it('turns durations into ISO 8601 and refuses what Sentinel cannot take', () => {
    expect(isoDuration('15m')).toBe('PT15M');
    expect(isoDuration('90m')).toBe('PT1H30M');
    expect(isoDuration('75m')).toBe('PT1H15M');
    expect(isoDuration('1h')).toBe('PT1H');
    expect(isoDuration('24h')).toBe('P1D');
    expect(isoDuration('14d')).toBe('P14D');
    expect(() => isoDuration('30s')).toThrow();
    expect(() => isoDuration('soon')).toThrow();
  });

  it('names tactics the way Sentinel does', () => {
    expect(sentinelTactic('Resource Development')).toBe('ResourceDevelopment');
    expect(sentinelTactic('command-and-control')).toBe('CommandAndControl');
    expect(sentinelTactic('TA0005')).toBe('DefenseEvasion');
    expect(sentinelTactic('DefenseEvasion')).toBe('DefenseEvasion');
    expect(() => sentinelTactic('Lunch')).toThrow(/not an ATT&CK tactic/);
  });

  it('maps entities only from projected columns', () => {
    expect(detectionEntityMappings(['DeviceName', 'CertsoarRegistryKey', 'Unrelated'])).toEqual([
      { entityType: 'Host', fieldMappings: [{ identifier: 'FullName', columnName: 'DeviceName' }] },
      { entityType: 'RegistryKey', fieldMappings: [{ identifier: 'Key', columnName: 'CertsoarRegistryKey' }] },
    ]);
    expect(detectionEntityMappings(['FolderPath'])).toEqual([]);
  });
});
