/**
 * Writes the files infra/ loads at Bicep compile time from the code that owns them, so the
 * deployment can never drift from the app:
 *   infra/kql/<fileName>              exportKql(DEFAULT_TUNING), the analytics rules' queries
 *   infra/kql/analytics-rules.json    rule metadata from each detection (severity, frequency, ATT&CK, entities)
 *   infra/schemas/incident-payload.schema.json   incidentJsonSchema(), the Logic App trigger schema
 *
 * Run: npx tsx scripts/generate-infra-artifacts.ts   (test/infra checks the files are current)
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { incidentJsonSchema } from '../shared/delivery/incident-schema.js';
import { exportKql } from '../shared/detections/export.js';
import { DETECTIONS } from '../shared/detections/index.js';
import type { Detection } from '../shared/detections/types.js';
import { parseDuration } from '../shared/duration.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Artifact {
  /** Path relative to the repository root, forward slashes. */
  path: string;
  content: string;
}

export interface EntityMapping {
  entityType: string;
  fieldMappings: Array<{ identifier: string; columnName: string }>;
}

export interface AnalyticsRuleMeta {
  id: string;
  title: string;
  description: string;
  severity: string;
  queryFrequency: string;
  queryPeriod: string;
  tactics: string[];
  techniques: string[];
  subTechniques: string[];
  entityMappings: EntityMapping[];
}

/** The ATT&CK tactic names Microsoft Sentinel accepts on analytics rules. */
export const SENTINEL_TACTICS = [
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'Exfiltration',
  'CommandAndControl',
  'Impact',
] as const;

const TACTIC_IDS: Record<string, (typeof SENTINEL_TACTICS)[number]> = {
  TA0043: 'Reconnaissance',
  TA0042: 'ResourceDevelopment',
  TA0001: 'InitialAccess',
  TA0002: 'Execution',
  TA0003: 'Persistence',
  TA0004: 'PrivilegeEscalation',
  TA0005: 'DefenseEvasion',
  TA0006: 'CredentialAccess',
  TA0007: 'Discovery',
  TA0008: 'LateralMovement',
  TA0009: 'Collection',
  TA0010: 'Exfiltration',
  TA0011: 'CommandAndControl',
  TA0040: 'Impact',
};

/** "Resource Development", "resource-development", "TA0042" → "ResourceDevelopment". */
export function sentinelTactic(tactic: string): string {
  const byId = TACTIC_IDS[tactic.trim().toUpperCase()];
  if (byId) return byId;
  const name = tactic
    .split(/[^A-Za-z]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
  const known = SENTINEL_TACTICS.find((t) => t.toLowerCase() === name.toLowerCase());
  if (!known) throw new Error(`"${tactic}" is not an ATT&CK tactic Microsoft Sentinel knows`);
  return known;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "15m" → "PT15M", "1h" → "PT1H", "1d" → "P1D" (the ISO 8601 durations analytics rules take). */
export function isoDuration(text: string): string {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms % MINUTE !== 0) throw new Error(`"${text}" is not a whole number of minutes`);
  if (ms % DAY === 0) return `P${ms / DAY}D`;
  if (ms % HOUR === 0) return `PT${ms / HOUR}H`;
  return `PT${ms / MINUTE}M`;
}

/**
 * Entities Sentinel should extract, by the columns a query projects. A mapping is kept when its
 * first column is projected; its other identifiers when theirs are. Order is priority (Sentinel
 * keeps at most 10 mappings per rule).
 */
const ENTITY_CANDIDATES: EntityMapping[] = [
  { entityType: 'Host', fieldMappings: [{ identifier: 'FullName', columnName: 'DeviceName' }] },
  { entityType: 'Host', fieldMappings: [{ identifier: 'FullName', columnName: 'SourceHostName' }] },
  { entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: 'SourceIP' }] },
  { entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: 'DestinationIP' }] },
  { entityType: 'DNS', fieldMappings: [{ identifier: 'DomainName', columnName: 'DestinationHostName' }] },
  {
    entityType: 'Account',
    fieldMappings: [
      { identifier: 'Name', columnName: 'AccountName' },
      { identifier: 'NTDomain', columnName: 'AccountDomain' },
    ],
  },
  { entityType: 'Account', fieldMappings: [{ identifier: 'Name', columnName: 'SourceUserName' }] },
  {
    entityType: 'Account',
    fieldMappings: [
      { identifier: 'Name', columnName: 'InitiatingProcessAccountName' },
      { identifier: 'NTDomain', columnName: 'InitiatingProcessAccountDomain' },
    ],
  },
  {
    entityType: 'Process',
    fieldMappings: [
      { identifier: 'CommandLine', columnName: 'ProcessCommandLine' },
      { identifier: 'ProcessId', columnName: 'ProcessId' },
    ],
  },
  {
    entityType: 'Process',
    fieldMappings: [
      { identifier: 'CommandLine', columnName: 'InitiatingProcessCommandLine' },
      { identifier: 'ProcessId', columnName: 'InitiatingProcessId' },
    ],
  },
  {
    entityType: 'RegistryKey',
    fieldMappings: [
      { identifier: 'Key', columnName: 'RegistryKey' },
      { identifier: 'Hive', columnName: 'RegistryHive' },
    ],
  },
  {
    entityType: 'File',
    fieldMappings: [
      { identifier: 'Name', columnName: 'FileName' },
      { identifier: 'Directory', columnName: 'FolderPath' },
    ],
  },
  { entityType: 'URL', fieldMappings: [{ identifier: 'Url', columnName: 'RequestURL' }] },
];

export function entityMappings(projectedColumns: readonly string[]): EntityMapping[] {
  const projected = new Set(projectedColumns);
  const out: EntityMapping[] = [];
  for (const candidate of ENTITY_CANDIDATES) {
    const first = candidate.fieldMappings[0];
    if (!first || !projected.has(first.columnName)) continue;
    out.push({ entityType: candidate.entityType, fieldMappings: candidate.fieldMappings.filter((f) => projected.has(f.columnName)) });
  }
  return out.slice(0, 10);
}

export function analyticsRule(detection: Detection): AnalyticsRuleMeta {
  const { meta } = detection;
  const queryFrequency = isoDuration(meta.queryFrequency);
  const queryPeriod = isoDuration(meta.queryPeriod);
  const frequencyMs = parseDuration(meta.queryFrequency) as number;
  const periodMs = parseDuration(meta.queryPeriod) as number;
  // Sentinel's limits for scheduled rules.
  if (frequencyMs < 5 * MINUTE || frequencyMs > 14 * DAY) throw new Error(`${meta.id}: queryFrequency ${meta.queryFrequency} is outside 5m..14d`);
  if (periodMs < frequencyMs || periodMs > 14 * DAY) throw new Error(`${meta.id}: queryPeriod ${meta.queryPeriod} must be between queryFrequency and 14d`);
  const techniqueId = meta.technique.id;
  const parent = techniqueId.split('.')[0] ?? techniqueId;
  return {
    id: meta.id,
    title: meta.title,
    description: meta.description,
    severity: meta.severity,
    queryFrequency,
    queryPeriod,
    tactics: [...new Set(meta.tactics.map(sentinelTactic))],
    techniques: [parent],
    subTechniques: techniqueId.includes('.') ? [techniqueId] : [],
    entityMappings: entityMappings(detection.projectedColumns),
  };
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Every generated file with the content it must have now. */
export function infraArtifacts(): Artifact[] {
  const kql = exportKql(DEFAULT_TUNING).map((q) => ({ path: `infra/kql/${q.fileName}`, content: q.kql }));
  return [
    ...kql,
    { path: 'infra/kql/analytics-rules.json', content: json(DETECTIONS.map(analyticsRule)) },
    { path: 'infra/schemas/incident-payload.schema.json', content: json(incidentJsonSchema()) },
  ];
}

function writeArtifacts(): void {
  const artifacts = infraArtifacts();
  const kqlDir = path.join(repoRoot, 'infra', 'kql');
  mkdirSync(kqlDir, { recursive: true });
  mkdirSync(path.join(repoRoot, 'infra', 'schemas'), { recursive: true });
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
