import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { grammars } from '../grammars/parsers.js';
import { sigmaRegexProblems } from './regex-subset.js';

/**
 * Checks a Sigma rule the way a Sigma toolchain would read it: the YAML text against the
 * official detection-rule JSON schema (draft 2020-12), its condition against Sigma's condition
 * grammar with every identifier and pattern resolved, every modifier known, and every `re`
 * value within Sigma's regex subset.
 */

const SCHEMA_FILE = new URL('../../test/datasets/schemas/sigma-detection-rule-schema.json', import.meta.url);

/** Modifiers of the Sigma modifiers appendix (v2.x). */
const MODIFIERS = new Set([
  'all', 'startswith', 'endswith', 'contains', 'exists', 'cased', 'neq', 'windash', 're', 'i', 'm', 's', 'base64',
  'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'lt', 'lte', 'gt', 'gte', 'minute', 'hour', 'day', 'week',
  'month', 'year', 'cidr', 'expand', 'fieldref',
]);
const RE_FLAGS = new Set(['i', 'm', 's']);
// The schema's one format; RFC 4122 layout.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ValidateFn = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
let validator: ValidateFn | undefined;

function schemaValidator(): ValidateFn {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    ajv.addFormat('uuid', UUID);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))) as ValidateFn;
  }
  return validator;
}

interface ConditionNode {
  op?: string;
  args?: ConditionNode[];
  arg?: ConditionNode;
  ref?: string;
  pattern?: string;
  them?: boolean;
}

function conditionReferences(node: ConditionNode, out: { refs: string[]; patterns: string[] }): void {
  if (node.ref) out.refs.push(node.ref);
  if (node.pattern) out.patterns.push(node.pattern);
  if (node.them) out.patterns.push('*');
  node.args?.forEach((a) => conditionReferences(a, out));
  if (node.arg) conditionReferences(node.arg, out);
}

const wildcard = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function conditionProblems(condition: string, identifiers: string[]): string[] {
  const parsed = grammars().sigmaCondition.parse(condition);
  if (!parsed.ok) return [`condition "${condition}" does not parse: ${parsed.message}`];
  const found = { refs: [] as string[], patterns: [] as string[] };
  conditionReferences(parsed.ast as ConditionNode, found);
  const problems: string[] = [];
  const used = new Set<string>();
  for (const ref of found.refs) {
    if (!identifiers.includes(ref)) problems.push(`condition names "${ref}", which the detection does not define`);
    used.add(ref);
  }
  for (const pattern of found.patterns) {
    const re = wildcard(pattern);
    const matching = identifiers.filter((id) => re.test(id) && !id.startsWith('_'));
    if (!matching.length) problems.push(`condition pattern "${pattern}" matches no search identifier`);
    matching.forEach((m) => used.add(m));
  }
  for (const id of identifiers) if (!used.has(id)) problems.push(`search identifier "${id}" is never used by the condition`);
  return problems;
}

function selectionProblems(name: string, selection: unknown): string[] {
  const maps = Array.isArray(selection) ? selection.filter((s) => s && typeof s === 'object') : [selection];
  const problems: string[] = [];
  for (const map of maps as Record<string, unknown>[]) {
    for (const [key, value] of Object.entries(map)) {
      const [, ...modifiers] = key.split('|');
      for (const m of modifiers) if (!MODIFIERS.has(m)) problems.push(`${name}.${key}: unknown modifier "${m}"`);
      const reAt = modifiers.indexOf('re');
      if (reAt < 0) {
        const flags = modifiers.filter((m) => RE_FLAGS.has(m));
        if (flags.length) problems.push(`${name}.${key}: ${flags.join(', ')} only apply after re`);
        continue;
      }
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== 'string') {
          problems.push(`${name}.${key}: re values must be strings`);
          continue;
        }
        for (const p of sigmaRegexProblems(v)) problems.push(`${name}.${key}: ${JSON.stringify(v)} at ${p.index}: ${p.message}`);
      }
    }
  }
  return problems;
}

/** Every problem with a Sigma rule's YAML text; empty when the rule is valid. */
export function sigmaRuleProblems(yamlText: string): string[] {
  let rule: unknown;
  try {
    rule = parseYaml(yamlText);
  } catch (error) {
    return [`not YAML: ${(error as Error).message}`];
  }
  const validate = schemaValidator();
  if (!validate(rule)) return (validate.errors ?? []).map((e) => `schema: ${e.instancePath || '/'} ${e.message ?? ''}`);
  const detection = (rule as { detection: Record<string, unknown> }).detection;
  const condition = detection['condition'];
  if (typeof condition !== 'string') return ['detection.condition must be one string'];
  const identifiers = Object.keys(detection).filter((k) => k !== 'condition' && k !== 'timeframe');
  return [
    ...conditionProblems(condition, identifiers),
    ...identifiers.flatMap((id) => selectionProblems(id, detection[id])),
  ];
}
