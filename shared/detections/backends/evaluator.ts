import type { CertificateObservation, Entities, Row, Signal } from '../../model.js';
import { eventTime, stableKey } from '../common.js';
import { numberParam } from '../definition/params.js';
import type { Branch, DetectionDefinition, KustoType, Step } from '../definition/types.js';
import type { Evaluation } from '../types.js';
import { ExprCompiler, type Compiled, type Env } from './evaluator-expr.js';
import { toNumber, toText, type Value } from './kusto-values.js';

/**
 * A definition and its parameters → a row evaluator: the same filters, signals, score and
 * outputs as the compiled KQL, over one row, in process. Everything that depends on the
 * parameters (regexes, lists, weights) is compiled once here.
 */

export type RowEvaluator = (row: Row) => Evaluation | null;

type CompiledStep = { where: Compiled } | { extend: string; expr: Compiled };

interface CompiledBranch {
  columns: Array<[string, KustoType]>;
  shared?: { name: string; steps: CompiledStep[] };
  belongs?: Compiled;
  steps: CompiledStep[];
  project?: Array<[string, Compiled]>;
}

interface CompiledSignal {
  id: string;
  when: Compiled;
  points: number;
  reason: (env: Env) => string;
}

export function compileEvaluator(def: DetectionDefinition, params: Record<string, unknown>): RowEvaluator {
  const c = new ExprCompiler(params);
  const steps = (list: Step[]): CompiledStep[] => list.map((s) => ('where' in s ? { where: c.compile(s.where) } : { extend: s.extend, expr: c.compile(s.expr) }));
  const branches: CompiledBranch[] = def.branches.map((b: Branch) => {
    const out: CompiledBranch = { columns: Object.entries(b.columns), steps: steps(b.steps) };
    if (b.shared) out.shared = { name: b.shared.name, steps: steps(b.shared.steps) };
    if (b.belongs) out.belongs = c.compile(b.belongs);
    if (def.branches.length > 1 && b.project) out.project = b.project.map((p) => [p.name, c.compile(p.expr)]);
    return out;
  });
  // Extends nothing before the decision reads are deferred until a row is a hit (most rows are not).
  const early = stepsNeededForDecision(def);
  const common = steps(def.steps.filter((st) => early.has(st)));
  const late = steps(def.steps.filter((st) => !early.has(st)));
  const signals: CompiledSignal[] = def.signals.map((s) => ({ id: s.id, when: c.compile(s.when), points: numberParam(params, s.weight), reason: reasonTemplate(s.reason) }));
  const minScore = numberParam(params, def.minScore);
  const allow = def.allow.map((a) => c.compile(a));
  const outputs = compileOutputs(def, c);

  return (row) => {
    // Shared steps run once per row for all the branches that share them (null: the row fails them).
    const sharedEnvs = new Map<string, Env | null>();
    for (const branch of branches) {
      let env = readBranch(row, branch, sharedEnvs);
      if (!env) continue;
      if (branch.project) env = projectBranch(env, branch.project);
      if (!runSteps(env, common)) continue;
      const fired: CompiledSignal[] = [];
      let score = 0;
      for (const s of signals) {
        if (s.when(env) !== true) continue;
        score += s.points;
        fired.push(s);
      }
      env[def.scoreColumn] = score;
      if (!(score > minScore)) continue;
      if (allow.some((a) => a(env as Env) === true)) continue;
      runSteps(env, late);
      const out: Signal[] = fired.map((s) => ({ id: s.id, points: s.points, reason: s.reason(env as Env) }));
      return outputs(row, env, out);
    }
    return null;
  };
}

/** Steps of def.steps the hit decision depends on: every where, and the extends they, the signals and the allowlists read (transitively). */
function stepsNeededForDecision(def: DetectionDefinition): Set<Step> {
  const needed = new Set<string>();
  const read = (e: unknown) => columnsRead(e).forEach((c) => needed.add(c));
  def.signals.forEach((s) => read(s.when));
  def.allow.forEach(read);
  const early = new Set<Step>();
  for (let i = def.steps.length - 1; i >= 0; i--) {
    const st = def.steps[i] as Step;
    if ('where' in st) {
      early.add(st);
      read(st.where);
    } else if (needed.has(st.extend)) {
      early.add(st);
      read(st.expr);
    }
  }
  return early;
}

/** The column names an expression reads. */
export function columnsRead(e: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(e)) e.forEach((x) => columnsRead(x, out));
  else if (e !== null && typeof e === 'object') {
    const node = e as Record<string, unknown>;
    if (node['op'] === 'col' && typeof node['name'] === 'string') out.add(node['name']);
    else for (const v of Object.values(node)) columnsRead(v, out);
  }
  return out;
}

/** The branch's columns read from the row, its membership test and its own steps; null when the row is not the branch's. */
function readBranch(row: Row, branch: CompiledBranch, sharedEnvs: Map<string, Env | null>): Env | null {
  let env: Env = {};
  for (const [name, type] of branch.columns) env[name] = readCell(row[name], type);
  if (branch.belongs && branch.belongs(env) !== true) return null;
  if (branch.shared) {
    let shared = sharedEnvs.get(branch.shared.name);
    if (shared === undefined) {
      shared = runSteps(env, branch.shared.steps) ? env : null;
      sharedEnvs.set(branch.shared.name, shared);
    }
    if (!shared) return null;
    env = { ...shared };
  }
  return runSteps(env, branch.steps) ? env : null;
}

/** Several branches: only what the branch projects goes on (a KQL union of projections). */
function projectBranch(env: Env, project: Array<[string, Compiled]>): Env {
  const out: Env = {};
  for (const [name, expr] of project) out[name] = expr(env);
  return out;
}

function runSteps(env: Env, steps: CompiledStep[]): boolean {
  for (const s of steps) {
    if ('where' in s) {
      if (s.where(env) !== true) return false;
    } else env[s.extend] = s.expr(env);
  }
  return true;
}

/** A cell as Kusto holds it: strings never null; numbers, booleans and datetimes may be. */
export function readCell(v: unknown, type: KustoType): Value {
  switch (type) {
    case 'string':
      if (v === undefined || v === null) return '';
      return v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'int':
    case 'long':
    case 'real':
      return typeof v === 'number' || typeof v === 'string' ? toNumber(v) : null;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'True') return true;
      if (v === 'false' || v === 'False') return false;
      return null;
    case 'datetime':
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      return typeof v === 'string' && v !== '' ? v : null;
    case 'dynamic':
      return Array.isArray(v) ? (v as Value[]) : v === undefined ? null : (v as Value);
  }
}

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/** "{Name}" in a reason → the value of column Name (arrays joined by ", "). */
function reasonTemplate(template: string): (env: Env) => string {
  const parts = template.split(PLACEHOLDER); // odd indexes are column names
  return (env) => parts.map((p, i) => (i % 2 === 0 ? p : displayText(env[p] ?? null))).join('');
}

function displayText(v: Value): string {
  return Array.isArray(v) ? v.map(toText).join(', ') : toText(v);
}

function indicatorValue(v: Value): string | number | boolean | null {
  if (v === null || v === '') return null;
  if (Array.isArray(v)) return v.length ? v.map(toText).join(',') : null;
  return v;
}

/** An output field's value, or undefined when it is absent ("" / null / empty array). */
function present(v: Value): Value | undefined {
  if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) return undefined;
  return v;
}

function compileOutputs(def: DetectionDefinition, c: ExprCompiler): (row: Row, env: Env, signals: Signal[]) => Evaluation {
  const key = def.key.map((k) => c.compile(k));
  const indicators = Object.entries(def.indicators).map(([name, e]) => [name, c.compile(e)] as const);
  const entities = Object.entries(def.entities).map(([name, e]) => [name, c.compile(e)] as const);
  const certificate = def.certificate ? Object.entries(def.certificate).map(([name, e]) => [name, c.compile(e)] as const) : undefined;
  const certificateWhen = def.certificateWhen ? c.compile(def.certificateWhen) : undefined;
  const id = def.meta.id;
  return (row, env, signals) => {
    const time = eventTime(row, def.time);
    const evaluation: Evaluation = {
      key: stableKey(id, [time, ...key.map((k) => keyPart(k(env)))]),
      time,
      signals,
      indicators: Object.fromEntries(indicators.map(([name, e]) => [name, indicatorValue(e(env))])),
      entities: entityFields(entities, env),
    };
    if (certificate && (!certificateWhen || certificateWhen(env) === true)) evaluation.certificate = certificateFields(certificate, env);
    return evaluation;
  };
}

function keyPart(v: Value): string | number | undefined {
  if (v === null || v === '') return undefined;
  return typeof v === 'number' ? v : displayText(v);
}

function entityFields(fields: ReadonlyArray<readonly [string, Compiled]>, env: Env): Entities {
  const out: Record<string, unknown> = {};
  for (const [name, e] of fields) {
    const v = e(env);
    if (name === 'domains') out.domains = Array.isArray(v) ? v.map(toText) : [];
    else if (name === 'destinationPort') {
      const n = toNumber(v);
      if (n !== null) out.destinationPort = n;
    } else {
      const p = present(v);
      if (p !== undefined) out[name] = toText(p);
    }
  }
  if (!out.domains) out.domains = [];
  return out as unknown as Entities;
}

function certificateFields(fields: ReadonlyArray<readonly [string, Compiled]>, env: Env): CertificateObservation {
  const out: Record<string, unknown> = {};
  for (const [name, e] of fields) {
    const v = e(env);
    if (typeof v === 'boolean') out[name] = v;
    else if (Array.isArray(v)) {
      if (v.length) out[name] = v.map(toText);
    } else {
      const p = present(v);
      if (p !== undefined) out[name] = toText(p);
    }
  }
  return out as CertificateObservation;
}

/**
 * Every column a row would carry through the pipeline, with the `where` filters ignored: what
 * the query would compute for the row if nothing dropped it. For tests and explanations.
 */
export function computeColumns(def: DetectionDefinition, params: Record<string, unknown>, row: Row): Env {
  const c = new ExprCompiler(params);
  const extendsOnly = (list: Step[]): CompiledStep[] => list.flatMap((s) => ('where' in s ? [] : [{ extend: s.extend, expr: c.compile(s.expr) }]));
  const branch = def.branches.find((b) => !b.belongs || c.compile(b.belongs)(readColumns(row, b)) === true) ?? (def.branches[0] as Branch);
  let env = readColumns(row, branch);
  if (branch.shared) runSteps(env, extendsOnly(branch.shared.steps));
  runSteps(env, extendsOnly(branch.steps));
  if (def.branches.length > 1 && branch.project) env = projectBranch(env, branch.project.map((p) => [p.name, c.compile(p.expr)]));
  runSteps(env, extendsOnly(def.steps));
  return env;
}

function readColumns(row: Row, branch: Branch): Env {
  const env: Env = {};
  for (const [name, type] of Object.entries(branch.columns)) env[name] = readCell(row[name], type);
  return env;
}

/**
 * The related-rows evaluator (definition.related): the branch's steps, then the related steps;
 * an Evaluation without signals, with indicators[marker] = true and relatedTo = the joinOn values.
 */
export function compileRelatedEvaluator(def: DetectionDefinition, params: Record<string, unknown>): RowEvaluator {
  const related = def.related;
  if (!related) return () => null;
  const c = new ExprCompiler(params);
  const branch = def.branches[0] as Branch;
  const compileSteps = (list: Step[]): CompiledStep[] => list.map((st) => ('where' in st ? { where: c.compile(st.where) } : { extend: st.extend, expr: c.compile(st.expr) }));
  const branchSteps = compileSteps([...(branch.shared?.steps ?? []), ...branch.steps]);
  const relatedSteps = compileSteps(related.steps);
  const key = related.key.map((k) => c.compile(k));
  const indicators = Object.entries(related.indicators).map(([name, e]) => [name, c.compile(e)] as const);
  const entities = Object.entries(related.entities).map(([name, e]) => [name, c.compile(e)] as const);
  return (row) => {
    const env = readColumns(row, branch);
    if (!runSteps(env, branchSteps) || !runSteps(env, relatedSteps)) return null;
    const time = eventTime(row, def.time);
    const out: Evaluation = {
      key: stableKey(def.meta.id, [time, related.marker, ...key.map((k) => keyPart(k(env)))]),
      time,
      signals: [],
      indicators: { ...Object.fromEntries(indicators.map(([name, e]) => [name, indicatorValue(e(env))])), [related.marker]: true },
      entities: entityFields(entities, env),
      relatedTo: Object.fromEntries(related.joinOn.map((name) => [name, indicatorValue(env[name] ?? null)])),
    };
    return out;
  };
}
