import type { Tuning } from '../../scoring/tuning.js';
import { numberParam } from '../definition/params.js';
import type { Branch, DetectionDefinition, Step } from '../definition/types.js';
import { DETECTIONS, detectionParams } from '../index.js';
import type { Detection } from '../types.js';
import { levelCases } from './plan.js';
import { type SplContext, kindOf, kindOfKustoType, splCondition, splValue } from './spl-expr.js';
import { type SplunkSource, T1587003_SOURCES, T1588004_SOURCES, t1608003Sources } from './splunk-sources.js';

/**
 * SPL for Splunk, compiled from each detection's definition: a Splunk source stands in for the
 * definition's table (splunk-sources.ts maps the columns the definition reads), then the
 * definition's own steps, signals, weights, threshold and allowlists run as SPL, and the level
 * follows the tuning's thresholds. Nothing about a detection's logic is restated here: a new
 * step, signal, port or vendor key in a definition or tuning document reaches the SPL. A
 * detection with several branches (T1587.003: a union in KQL) becomes one search per branch and
 * source; each finds what its KQL branch finds.
 */

export interface SplSearch {
  /** Saved-search name, unique in the app. */
  name: string;
  detectionId: string;
  /** Which source the search reads (raw sourcetypes, a CIM data model) and, for unions, which branch. */
  source: string;
  search: string;
  /** What SPL could not express for this search, and how it approximates. */
  limitations: string[];
}

/** Macros the searches use; the Splunk app defines them in macros.conf. */
export const SPL_MACROS = {
  certsoar_index: { definition: 'index=*', description: 'Indexes to search; narrow to the ones holding firewall/proxy and Sysmon data.' },
  certsoar_tls_sourcetypes: {
    definition: '(sourcetype="stream:ssl" OR sourcetype="pan:traffic" OR sourcetype="pan:decryption" OR sourcetype="cisco:asa" OR sourcetype="fortigate_traffic")',
    description: 'Sourcetypes that carry the certificate of inspected TLS sessions.',
  },
  certsoar_sysmon: {
    definition: '(sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" OR source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational")',
    description: 'Sysmon operational log as the Splunk Add-on for Sysmon indexes it.',
  },
} as const;

/** The definition behind a Detection (every shipped detection is compiled from one). */
export function definitionOf(d: Detection): DetectionDefinition {
  const def = (d as Detection & { definition?: DetectionDefinition }).definition;
  if (!def) throw new Error(`${d.meta.id}: not built from a definition, so no SIEM backend can compile it`);
  return def;
}

function sourcesFor(id: string, params: Record<string, unknown>): SplunkSource[] {
  if (id === 'T1608.003') {
    const keys = ['subjectKeys', 'issuerKeys', 'sanKeys', 'sniKeys', 'serialKeys'].flatMap((k) => (Array.isArray(params[k]) ? (params[k] as string[]) : []));
    return t1608003Sources(keys);
  }
  if (id === 'T1588.004') return T1588004_SOURCES;
  if (id === 'T1587.003') return T1587003_SOURCES;
  throw new Error(`SPL: no Splunk source is mapped for detection ${id} (add one in splunk-sources.ts)`);
}

/** Sorting by event time uses Splunk's own _time. */
const field = (name: string) => (name === 'TimeGenerated' ? '_time' : name);

function compileSteps(steps: readonly Step[], ctx: SplContext): string[] {
  return steps.map((step) => {
    if ('where' in step) return `| where ${splCondition(step.where, ctx)}`;
    const kind = kindOf(step.expr, ctx);
    const text = kind === 'bool' ? `if(${splCondition(step.expr, ctx)}, 1, 0)` : splValue(step.expr, ctx);
    ctx.columns.set(step.extend, kind);
    return `| eval ${step.extend}=${text}`;
  });
}

function adapt(def: DetectionDefinition, branch: Branch, source: SplunkSource, ctx: SplContext): string[] {
  // A column no Splunk source maps is read as "" (conservative: a signal needing it cannot fire), and said so.
  const missing = Object.keys(branch.columns).filter((c) => !(c in source.columns));
  if (missing.length) ctx.limitations.add(`no Splunk field is mapped for ${missing.join(', ')} (read as empty; map it in splunk-sources.ts)`);
  for (const [name, type] of Object.entries(branch.columns)) ctx.columns.set(name, kindOfKustoType(type));
  return [`| eval ${Object.keys(branch.columns).map((c) => `${c}=${source.columns[c] ?? '""'}`).join(', ')}`];
}

function projectBranch(branch: Branch, ctx: SplContext): string[] {
  const renames = (branch.project ?? []).filter((p) => !(p.expr.op === 'col' && p.expr.name === p.name));
  if (!renames.length) return [];
  const kinds = renames.map((p) => kindOf(p.expr, ctx));
  const assignments = renames.map((p, i) => `${p.name}=${kinds[i] === 'bool' ? `if(${splCondition(p.expr, ctx)}, 1, 0)` : splValue(p.expr, ctx)}`);
  renames.forEach((p, i) => ctx.columns.set(p.name, kinds[i] as never));
  return [`| eval ${assignments.join(', ')}`];
}

function scoring(def: DetectionDefinition, ctx: SplContext, levels: { low: number; medium: number; high: number }): string[] {
  const score = def.scoreColumn;
  const flags = def.signals.map((s) => `| eval signal_${s.id}=if(${splCondition(s.when, ctx)}, 1, 0)`);
  const sum = def.signals.map((s) => `signal_${s.id}*${numberParam(ctx.params, s.weight)}`).join(' + ');
  const levelCase = levelCases(levels)
    .map((l) => `${score}>=${l.min}, "${l.level}"`)
    .join(', ');
  return [
    ...flags,
    `| eval ${score}=${sum || '0'}`,
    `| where ${score} > ${numberParam(ctx.params, def.minScore)}`,
    ...def.allow.map((a) => splCondition(a, ctx)).filter((c) => c !== '1==0').map((c) => `| where NOT (${c})`),
    `| eval CertRiskLevel=case(${levelCase}, 1==1, "Informational")`,
  ];
}

function compileSearch(def: DetectionDefinition, params: Record<string, unknown>, branch: Branch, source: SplunkSource, levels: Tuning['levels']): SplSearch {
  const ctx: SplContext = { params, columns: new Map(), limitations: new Set() };
  const lines = [
    ...source.base,
    ...adapt(def, branch, source, ctx),
    ...compileSteps(branch.steps, ctx),
    ...projectBranch(branch, ctx),
    ...compileSteps(def.steps, ctx),
    ...scoring(def, ctx, levels),
  ];
  // Every projected column, raw ones included, so an alert's result row is a row certsoar can evaluate again.
  const output = [...def.project.filter((c) => ctx.columns.has(c) || c === def.scoreColumn), ...def.signals.map((s) => `signal_${s.id}`), 'CertRiskLevel'];
  lines.push(`| table _time, ${[...new Set(output)].join(', ')}`);
  lines.push(`| sort 0 ${def.sort.map((s) => `${s.order === 'desc' ? '-' : '+'} ${field(s.column)}`).join(', ')}`);
  const union = def.branches.length > 1;
  return {
    name: `certsoar ${def.meta.id} ${source.name}${union ? ` ${branch.name}` : ''}`,
    detectionId: def.meta.id,
    source: union ? `${source.name}-${branch.name}` : source.name,
    search: lines.join('\n'),
    limitations: [...ctx.limitations],
  };
}

/** Every detection's SPL searches under the tuning document. */
export function splSearches(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): SplSearch[] {
  return detections.flatMap((d) => {
    const def = definitionOf(d);
    const params = detectionParams(d, tuning);
    const sources = sourcesFor(def.meta.id, params);
    const searches = sources.flatMap((source) => def.branches.filter((b) => b.table === source.table).map((branch) => compileSearch(def, params, branch, source, tuning.levels)));
    // A branch over a table no Splunk source stands for is not searched: every search of the detection says so.
    const unsearched = def.branches.filter((b) => !sources.some((s) => s.table === b.table)).map((b) => `branch ${b.name} reads ${b.table}, which no Splunk source stands for; it is not searched`);
    for (const s of searches) s.limitations.push(...unsearched);
    return searches;
  });
}
