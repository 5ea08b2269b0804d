import { stringify } from 'yaml';
import type { Tuning } from '../scoring/tuning.js';
import { DETECTIONS, detectionParams } from './index.js';
import { detectionRule, findingsRule, type SentinelRule } from './sentinel-rule.js';
import type { Detection } from './types.js';

/**
 * The analytics rules as files in the Azure-Sentinel repository's detection YAML schema (the
 * "Detections/*.yaml" template format: id, name, description, severity, requiredDataConnectors,
 * queryFrequency / queryPeriod as short durations, triggerOperator gt|lt|eq|ne, triggerThreshold,
 * tactics, relevantTechniques, query, entityMappings, customDetails, alertDetailsOverride,
 * incidentConfiguration, eventGroupingSettings, version, kind). The metadata is
 * shared/detections/sentinel-rule.ts's, the same the Bicep deploys.
 */

export const SENTINEL_YAML_REQUIRED_KEYS = [
  'id',
  'name',
  'description',
  'severity',
  'requiredDataConnectors',
  'queryFrequency',
  'queryPeriod',
  'triggerOperator',
  'triggerThreshold',
  'tactics',
  'relevantTechniques',
  'query',
  'entityMappings',
  'customDetails',
  'alertDetailsOverride',
  'incidentConfiguration',
  'version',
  'kind',
] as const;

export interface SentinelYamlFile {
  key: string;
  fileName: string;
  yaml: string;
}

/** "PT1H15M" → "75m", "P1D" → "1d": the repository writes durations the Kusto way. */
function shortDuration(iso: string): string {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso);
  if (!m) throw new Error(`not an ISO 8601 duration: ${iso}`);
  const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

export function sentinelRuleDocument(rule: SentinelRule): Record<string, unknown> {
  const scheduled = rule.kind === 'Scheduled';
  return {
    id: rule.id,
    name: rule.displayName,
    description: rule.description,
    severity: rule.severity,
    requiredDataConnectors: rule.requiredDataConnectors,
    // NRT rules run every minute over what was ingested since: the schema keeps the keys, Sentinel ignores them.
    queryFrequency: scheduled && rule.queryFrequency ? shortDuration(rule.queryFrequency) : '1m',
    queryPeriod: scheduled && rule.queryPeriod ? shortDuration(rule.queryPeriod) : '1m',
    triggerOperator: 'gt',
    triggerThreshold: rule.triggerThreshold,
    tactics: rule.tactics,
    relevantTechniques: [...rule.subTechniques, ...rule.techniques.filter((t) => !rule.subTechniques.some((s) => s.startsWith(`${t}.`)))],
    query: `${rule.query.trimEnd()}\n`,
    entityMappings: rule.entityMappings,
    customDetails: rule.customDetails,
    alertDetailsOverride: rule.alertDetailsOverride,
    incidentConfiguration: rule.incidentConfiguration,
    eventGroupingSettings: rule.eventGroupingSettings,
    version: rule.version,
    kind: rule.kind,
  };
}

/** One YAML file per rules-mode detection rule, and the hunts-mode findings rule. */
export function exportSentinelYaml(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): SentinelYamlFile[] {
  const rules = [...detections.map((d) => detectionRule(d, detectionParams(d, tuning))), findingsRule(detections)];
  return rules.map((rule) => ({
    key: rule.key,
    fileName: `certsoar-${rule.key}.yaml`,
    yaml: stringify(sentinelRuleDocument(rule), { lineWidth: 0, blockQuote: 'literal' }),
  }));
}

