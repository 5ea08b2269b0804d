/**
 * Writes the files infra/ loads at Bicep compile time from the code that owns them, so the
 * deployment can never drift from the app:
 *   infra/kql/<id>.kql                exportKql(DEFAULT_TUNING): the rules-mode analytics rules' queries
 *   infra/kql/analytics-rules.json    their metadata (shared/detections/sentinel-rule.ts)
 *   infra/kql/findings.kql, findings-rule.json   the hunts-mode rule over CertsoarFindings_CL
 *   infra/tables/findings-table-columns.json     the custom table's columns (FINDINGS_COLUMNS)
 *   infra/tables/findings-stream-columns.json    the DCR stream declaration's columns (same, DCR types)
 *   infra/schemas/incident-payload.schema.json   incidentJsonSchema(), the Logic App trigger schema
 *
 * Run: npx tsx scripts/generate-infra-artifacts.ts   (test/infra checks the files are current)
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { incidentJsonSchema } from '../shared/delivery/incident-schema.js';
import { FINDINGS_COLUMNS } from '../shared/delivery/logs-ingestion-row.js';
import { exportKql } from '../shared/detections/export.js';
import { DETECTIONS, detectionParams } from '../shared/detections/index.js';
import { detectionRule, findingsRule, type SentinelRule } from '../shared/detections/sentinel-rule.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Artifact {
  /** Path relative to the repository root, forward slashes. */
  path: string;
  content: string;
}

/** Rule metadata Bicep loads beside the query file: the rule without its query text. */
export type RuleMetadata = Omit<SentinelRule, 'query'>;

export function ruleMetadata(rule: SentinelRule): RuleMetadata {
  const { query: _query, ...rest } = rule;
  return rest;
}

/** The detections' rules-mode rules with the default tuning (what infra/ deploys). */
export function shippedDetectionRules(): SentinelRule[] {
  return DETECTIONS.map((d) => detectionRule(d, detectionParams(d, DEFAULT_TUNING)));
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Every generated file with the content it must have now. */
export function infraArtifacts(): Artifact[] {
  const kql = exportKql(DEFAULT_TUNING).map((q) => ({ path: `infra/kql/${q.fileName}`, content: q.kql }));
  const findings = findingsRule(DETECTIONS);
  return [
    ...kql,
    { path: 'infra/kql/analytics-rules.json', content: json(shippedDetectionRules().map(ruleMetadata)) },
    { path: 'infra/kql/findings.kql', content: `${findings.query}\n` },
    { path: 'infra/kql/findings-rule.json', content: json(ruleMetadata(findings)) },
    { path: 'infra/tables/findings-table-columns.json', content: json(FINDINGS_COLUMNS) },
    { path: 'infra/tables/findings-stream-columns.json', content: json(dcrStreamColumns()) },
    { path: 'infra/schemas/incident-payload.schema.json', content: json(incidentJsonSchema()) },
  ];
}

/** The DCR stream declaration's columns: the table's, with the DCR's spelling of the types. */
export function dcrStreamColumns(): Array<{ name: string; type: string }> {
  return FINDINGS_COLUMNS.map((c) => ({ name: c.name, type: c.type === 'dateTime' ? 'datetime' : c.type }));
}

function writeArtifacts(): void {
  const artifacts = infraArtifacts();
  const kqlDir = path.join(repoRoot, 'infra', 'kql');
  mkdirSync(kqlDir, { recursive: true });
  mkdirSync(path.join(repoRoot, 'infra', 'schemas'), { recursive: true });
  mkdirSync(path.join(repoRoot, 'infra', 'tables'), { recursive: true });
  // Queries of detections that no longer exist must not linger for Bicep to load.
  const keep = new Set(artifacts.map((a) => path.join(repoRoot, a.path)));
  for (const f of readdirSync(kqlDir)) {
    const full = path.join(kqlDir, f);
    if (f.endsWith('.kql') && !keep.has(full)) rmSync(full);
  }
  for (const a of artifacts) {
    writeFileSync(path.join(repoRoot, a.path), a.content);
    console.log(`wrote ${a.path}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) writeArtifacts();
