import type { z } from 'zod';
import type { FieldProblem } from '../errors.js';
import { problemsFromZod } from '../errors.js';
import { closestName } from './closest-name.js';
import { cidrProblem } from './match.js';

/** The parts of a tuning document these checks read (structural, so tuning.ts can import this file). */
interface CheckedRule {
  id: string;
  when: Partial<Record<string, string[]>>;
}
interface CheckedTuning {
  organisation: Record<string, string[]>;
  suppressions: CheckedRule[];
}

/**
 * Checks of the tuning document beyond its shape: unknown keys with a suggestion, CIDR ranges,
 * glob patterns, `@organisation.*` references, and the warnings `certsoar validate` prints for
 * suppressions an adversary could trigger. Shared by every loader, so `validate` and `hunt`
 * reject the same documents.
 */

/** Fields whose text the adversary writes (certificate names, file names, command lines). */
const ADVERSARY_TEXT_FIELDS = new Set(['issuer', 'subject', 'destinationHost', 'processName', 'parentProcessName', 'commandLine', 'filePath', 'registryKey']);
const PATH_FIELDS = new Set(['processPath', 'parentProcessPath']);
const IP_FIELDS = new Set(['sourceIp', 'destinationIp']);
/** Which organisation lists each condition may reference. */
const REFERENCE_TARGETS: Record<string, readonly string[]> = {
  sourceIp: ['addressRanges', 'tlsInspectionAppliances'],
  destinationIp: ['addressRanges', 'tlsInspectionAppliances'],
  certificateThumbprint: ['internalCaThumbprints'],
  host: ['buildHosts'],
  account: ['redTeamAccounts'],
};
export const REFERENCE_PREFIX = '@organisation.';

/** zod issues as field problems; an unknown key names the closest known key ("did you mean"). */
export function tuningProblemsFromZod(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, prefix = 'tuning'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') {
      problems.push(...problemsFromZod([issue], prefix));
      continue;
    }
    const known = knownKeysAt(schema, issue.path);
    for (const key of issue.keys) {
      const [path] = problemsFromZod([{ path: [...issue.path, key], message: '' }], prefix);
      problems.push({ path: path!.path, message: unknownKeyMessage(key, known) });
    }
  }
  return problems;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closest(key, known);
  if (suggestion) return `unknown key; did you mean "${suggestion}"?`;
  return known.length > 0 ? `unknown key; expected one of ${known.join(', ')}` : 'unknown key';
}

/** The known key nearest to a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  return closestName(key, known);
}

/** The keys an object schema knows at a path (unwrapping defaults, arrays and records). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const step of [...path, undefined]) {
    node = unwrap(node);
    const def = defOf(node);
    if (step === undefined) return def?.type === 'object' ? Object.keys(def.shape as object) : [];
    if (def?.type === 'object') node = (def.shape as Record<string, unknown>)[String(step)];
    else if (def?.type === 'array') node = def.element;
    else if (def?.type === 'record') node = def.valueType;
    else return [];
  }
  return [];
}

function unwrap(node: unknown): unknown {
  let current = node;
  for (let def = defOf(current); def && ['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(def.type as string); def = defOf(current)) {
    current = def.type === 'pipe' ? def.in : def.innerType;
  }
  return current;
}

function defOf(node: unknown): Record<string, unknown> | undefined {
  return (node as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
}

/** CIDR ranges, glob patterns and references that the schema alone cannot check. */
export function tuningValueProblems(tuning: CheckedTuning): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const key of ['addressRanges', 'tlsInspectionAppliances'] as const) {
    (tuning.organisation[key] ?? []).forEach((range, i) => {
      const problem = cidrProblem(range);
      if (problem) problems.push({ path: `tuning.organisation.${key}[${i}]`, message: problem });
    });
  }
  const seen = new Set<string>();
  tuning.suppressions.forEach((rule, r) => {
    if (seen.has(rule.id)) problems.push({ path: `tuning.suppressions[${r}].id`, message: `"${rule.id}" is used by an earlier rule; ids must be unique` });
    seen.add(rule.id);
    for (const [field, patterns] of Object.entries(rule.when)) {
      (patterns ?? []).forEach((pattern, i) => {
        const problem = patternProblem(field, pattern);
        if (problem) problems.push({ path: `tuning.suppressions[${r}].when.${field}[${i}]`, message: problem });
      });
    }
  });
  return problems;
}

function patternProblem(field: string, pattern: string): string | undefined {
  if (pattern.startsWith(REFERENCE_PREFIX)) {
    const list = pattern.slice(REFERENCE_PREFIX.length);
    const allowed = REFERENCE_TARGETS[field] ?? [];
    if (!allowed.includes(list)) {
      return allowed.length > 0 ? `"${pattern}" is not a list ${field} can use; expected ${allowed.map((a) => REFERENCE_PREFIX + a).join(' or ')}` : `${field} cannot reference organisation lists`;
    }
    return undefined;
  }
  if (IP_FIELDS.has(field)) return cidrProblem(pattern);
  if (field === 'certificateThumbprint' && !/^[0-9a-f*]+$/i.test(pattern.replace(/[: ]/g, ''))) return `"${pattern}" is not a hex thumbprint`;
  // A glob has one wildcard, `*`; these are regular-expression habits that would match literally.
  if (/^\^|\$$|\\[dws][+*]|\[[^\]]*-[^\]]*\][+*]?$/.test(pattern) && !PATH_FIELDS.has(field) && field !== 'filePath' && field !== 'registryKey') {
    return `"${pattern}" looks like a regular expression; patterns are globs where only * is special`;
  }
  return undefined;
}

/** Rules that key only on text an adversary writes: they still apply, but validate warns. */
export function tuningWarnings(tuning: CheckedTuning): FieldProblem[] {
  const warnings: FieldProblem[] = [];
  tuning.suppressions.forEach((rule, r) => {
    if (keysOnlyOnAdversaryText(rule)) {
      warnings.push({
        path: `tuning.suppressions[${r}] (${rule.id})`,
        message: `keys only on ${conditionFields(rule).join(', ')}, text an adversary chooses (a certificate name, a file name): anyone can get their hit suppressed. Add an address, thumbprint, device, account or full installed path condition`,
      });
    }
  });
  return warnings;
}

function conditionFields(rule: CheckedRule): string[] {
  return Object.entries(rule.when)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k]) => k);
}

function keysOnlyOnAdversaryText(rule: CheckedRule): boolean {
  const fields = conditionFields(rule);
  return fields.length > 0 && fields.every((f) => ADVERSARY_TEXT_FIELDS.has(f) || (PATH_FIELDS.has(f) && (rule.when[f] ?? []).every(isUnanchoredPath)));
}

/** A path pattern that does not start at a root (`*\agent.exe`) is a file name in disguise. */
function isUnanchoredPath(pattern: string): boolean {
  return !/^(?:[a-z]:\\|\/|\\\\)[^*]/i.test(pattern);
}
