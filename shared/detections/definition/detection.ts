import type { Row } from '../../model.js';
import { compileEvaluator, compileRelatedEvaluator, type RowEvaluator } from '../backends/evaluator.js';
import { compileKql } from '../backends/kql.js';
import type { Detection, Evaluation, QueryWindow, RuleWindow } from '../types.js';
import type { DetectionDefinition } from './types.js';

/**
 * A definition as the Detection every consumer uses (hunting, observables, CLI, functions,
 * export, validation): buildQuery and evaluate are the two compilers; the evaluator is
 * compiled once per parameters object (a tuning's parsed parameters never change).
 */
export function detectionFromDefinition<P extends Record<string, unknown>>(def: DetectionDefinition<P>): Detection<P> & { definition: DetectionDefinition<P> } {
  checkDefinition(def as unknown as DetectionDefinition);
  const evaluators = new WeakMap<P, RowEvaluator>();
  const evaluatorFor = (params: P): RowEvaluator => {
    let e = evaluators.get(params);
    if (!e) evaluators.set(params, (e = compileEvaluator(def as unknown as DetectionDefinition, params)));
    return e;
  };
  const relatedEvaluators = new WeakMap<P, RowEvaluator>();
  const relatedFor = (params: P): RowEvaluator => {
    let e = relatedEvaluators.get(params);
    if (!e) relatedEvaluators.set(params, (e = compileRelatedEvaluator(def as unknown as DetectionDefinition, params)));
    return e;
  };
  const sourceColumns = new Set(def.branches.flatMap((b) => Object.keys(b.columns)));
  return {
    definition: def,
    meta: def.meta,
    paramsSchema: def.params,
    buildQuery: (params: P, window?: QueryWindow | RuleWindow): string => compileKql(def as unknown as DetectionDefinition, params, window),
    evaluate: (row: Row, params: P): Evaluation | null => evaluatorFor(params)(row),
    ...(def.related ? { evaluateRelated: (row: Row, params: P): Evaluation | null => relatedFor(params)(row) } : {}),
    projectedColumns: def.project.filter((c) => sourceColumns.has(c)),
    scheduleSetting: def.scheduleSetting,
  };
}

/** Mistakes a definition can make that no type catches: fail at load, naming the detection. */
function checkDefinition(def: DetectionDefinition): void {
  const projected = new Set(def.project);
  for (const b of def.branches) {
    for (const c of Object.keys(b.columns)) {
      if (!projected.has(c)) throw new Error(`${def.meta.id}: column ${c} read by branch ${b.name} is not projected, so the evaluator could not read it from a query answer`);
    }
    if (!(b.timeColumn in b.columns)) throw new Error(`${def.meta.id}: branch ${b.name} filters time on ${b.timeColumn}, which it does not read`);
  }
  const ids = def.signals.map((s) => s.id);
  if (new Set(ids).size !== ids.length) throw new Error(`${def.meta.id}: signal ids must be unique`);
}
