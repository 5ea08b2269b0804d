import type { Hit, Row, Suppression } from '../model.js';
import { compileGlobs } from './glob.js';
import { compileRanges } from './match.js';
import type { SuppressionRule, Tuning } from './tuning.js';
import { REFERENCE_PREFIX } from './tuning-check.js';

/**
 * The suppressions of a tuning compiled once (globs to linear-time matchers, ranges to one
 * BlockList, `@organisation.*` references resolved) and cached per tuning object.
 */
type HitTest = (hit: Hit) => boolean;
interface CompiledRule {
  rule: SuppressionRule;
  tests: HitTest[];
}
type SuppressionTuning = Pick<Tuning, 'suppressions'> & { organisation?: Partial<Tuning['organisation']> };

const compiledByTuning = new WeakMap<object, CompiledRule[]>();

export function findSuppression(hit: Hit, tuning: SuppressionTuning): Suppression | undefined {
  let rules = compiledByTuning.get(tuning);
  if (!rules) {
    rules = tuning.suppressions.map((rule) => compileRule(rule, tuning.organisation ?? {}));
    compiledByTuning.set(tuning, rules);
  }
  const match = rules.find((c) => (c.rule.detections.length === 0 || c.rule.detections.includes(hit.detectionId)) && c.tests.every((t) => t(hit)));
  return match ? { rule: match.rule.id, reason: match.rule.reason } : undefined;
}

function compileRule(rule: SuppressionRule, organisation: Partial<Tuning['organisation']>): CompiledRule {
  const tests: HitTest[] = [];
  for (const [field, raw] of Object.entries(rule.when)) {
    if (!raw || raw.length === 0) continue;
    tests.push(compileCondition(field, resolveReferences(raw, organisation)));
  }
  return { rule, tests };
}

/** `@organisation.buildHosts` → the organisation's list; an empty list makes the condition match nothing. */
function resolveReferences(patterns: readonly string[], organisation: Partial<Tuning['organisation']>): string[] {
  return patterns.flatMap((p) => (p.startsWith(REFERENCE_PREFIX) ? [...((organisation as Record<string, string[] | undefined>)[p.slice(REFERENCE_PREFIX.length)] ?? [])] : [p]));
}

function compileCondition(field: string, patterns: string[]): HitTest {
  if (patterns.length === 0) return () => false;
  const glob = compileGlobs(patterns);
  const text = (v: string | undefined) => v !== undefined && v !== '' && glob(v);
  switch (field) {
    case 'sourceIp': {
      const inRange = compileRanges(patterns);
      return (h) => inRange(h.entities.sourceIp);
    }
    case 'destinationIp': {
      const inRange = compileRanges(patterns);
      return (h) => inRange(h.entities.destinationIp);
    }
    case 'issuer':
      return (h) => text(h.certificate?.issuer) || text(h.certificate?.issuerCommonName);
    case 'subject':
      return (h) => text(h.certificate?.subject) || text(h.certificate?.subjectCommonName);
    case 'certificateThumbprint': {
      const wanted = compileGlobs(patterns.map((p) => p.replace(/[: ]/g, '')));
      return (h) => [h.certificate?.sha1, h.certificate?.sha256].some((t) => t !== undefined && wanted(t.replace(/[: ]/g, '')));
    }
    case 'processPath':
      return (h) => text(imagePath(h.row, h.entities.processName));
    case 'parentProcessPath':
      return (h) => text(imagePath(h.row, h.entities.parentProcessName));
    case 'signal':
      return (h) => h.signals.some((s) => glob(s.id));
    case 'onlySignals':
      return (h) => h.signals.every((s) => glob(s.id));
    default: {
      const key = field as 'host' | 'destinationHost' | 'account' | 'processName' | 'parentProcessName' | 'commandLine' | 'filePath' | 'registryKey';
      return (h) => text(h.entities[key]);
    }
  }
}

/**
 * The full path of a process the hit names, from the row columns that hold it: Defender's
 * InitiatingProcessFolderPath / FolderPath (Microsoft Defender XDR advanced hunting schema,
 * DeviceRegistryEvents / DeviceProcessEvents / DeviceFileEvents) and Sysmon's Image /
 * ParentImage (Sysmon event ID 1, 13). Some exports give the folder only; the name is joined.
 */
export function imagePath(row: Row, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const lower = name.toLowerCase();
  const pairs: Array<[string, string]> = [
    ['InitiatingProcessFileName', 'InitiatingProcessFolderPath'],
    ['FileName', 'FolderPath'],
  ];
  for (const [nameColumn, pathColumn] of pairs) {
    const n = row[nameColumn];
    const p = row[pathColumn];
    if (typeof n === 'string' && n.toLowerCase() === lower && typeof p === 'string' && p !== '') return withName(p, name);
  }
  for (const column of ['Image', 'ParentImage']) {
    const p = row[column];
    if (typeof p === 'string' && baseName(p).toLowerCase() === lower) return p;
  }
  return undefined;
}

function withName(path: string, name: string): string {
  return baseName(path).toLowerCase() === name.toLowerCase() ? path : `${path.replace(/[\\/]+$/, '')}${path.includes('/') && !path.includes('\\') ? '/' : '\\'}${name}`;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
