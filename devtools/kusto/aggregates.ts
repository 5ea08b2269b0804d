import type { Scope } from './environment.js';
import type { ScalarFn } from './expressions.js';
import { KqlError, KqlNotImplementedError, groupKey, kqlCompare, type KqlRow, type KqlValue } from './values.js';

/**
 * summarize's aggregation functions (learn.microsoft.com/kusto/query/aggregation-functions):
 * each takes the group's rows and the compiled argument expressions.
 */

type Aggregate = (rows: KqlRow[], args: ScalarFn[], scope: Scope) => KqlValue;

const values = (rows: KqlRow[], arg: ScalarFn | undefined, scope: Scope): KqlValue[] => {
  if (!arg) throw new KqlError('aggregate needs an argument');
  return rows.map((r) => arg(r, scope));
};
const present = (v: KqlValue) => v !== null && v !== '';

/** Values of make_set/make_list, arrays spread in (both flatten dynamic arrays). */
function collect(rows: KqlRow[], args: ScalarFn[], scope: Scope, unique: boolean): KqlValue {
  const limit = args[1] ? Number(args[1]({}, scope)) : 1_048_576;
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (const v of values(rows, args[0], scope)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item === null || item === undefined) continue;
      if (unique) {
        const k = groupKey(item as KqlValue);
        if (seen.has(k)) continue;
        seen.add(k);
      }
      if (out.length < limit) out.push(item);
    }
  }
  return out;
}

function extreme(rows: KqlRow[], args: ScalarFn[], scope: Scope, wantMax: boolean): KqlValue {
  let best: KqlValue = null;
  for (const v of values(rows, args[0], scope)) {
    if (v === null) continue;
    const c = best === null ? null : kqlCompare(v, best);
    if (best === null || (c !== null && (wantMax ? c > 0 : c < 0))) best = v;
  }
  return best;
}

export const AGGREGATES: Record<string, Aggregate> = {
  count: (rows) => rows.length,
  countif: (rows, args, scope) => values(rows, args[0], scope).filter((v) => v === true).length,
  dcount: (rows, args, scope) => new Set(values(rows, args[0], scope).filter((v) => v !== null).map(groupKey)).size,
  dcountif: (rows, args, scope) => {
    const keep = values(rows, args[1], scope);
    return new Set(values(rows, args[0], scope).filter((v, i) => v !== null && keep[i] === true).map(groupKey)).size;
  },
  min: (rows, args, scope) => extreme(rows, args, scope, false),
  max: (rows, args, scope) => extreme(rows, args, scope, true),
  sum: (rows, args, scope) => values(rows, args[0], scope).reduce<number>((a, v) => a + (typeof v === 'number' ? v : 0), 0),
  avg: (rows, args, scope) => {
    const nums = values(rows, args[0], scope).filter((v): v is number => typeof v === 'number');
    return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
  },
  make_set: (rows, args, scope) => collect(rows, args, scope, true),
  make_list: (rows, args, scope) => collect(rows, args, scope, false),
  take_any: (rows, args, scope) => {
    for (const v of values(rows, args[0], scope)) if (present(v)) return v;
    return rows.length ? values(rows, args[0], scope)[0] ?? null : null;
  },
  any: (rows, args, scope) => AGGREGATES.take_any!(rows, args, scope),
};

export function isAggregate(name: string): boolean {
  return name in AGGREGATES || name === 'arg_max' || name === 'arg_min';
}

export function aggregate(name: string, rows: KqlRow[], args: ScalarFn[], scope: Scope): KqlValue {
  const f = AGGREGATES[name];
  if (!f) throw new KqlNotImplementedError(`aggregation function ${name}()`);
  return f(rows, args, scope);
}

/** arg_max/arg_min: the row where the first argument is largest/smallest (first such row wins). */
export function argExtremeRow(rows: KqlRow[], by: ScalarFn, scope: Scope, wantMax: boolean): KqlRow | undefined {
  let best: KqlRow | undefined;
  let bestValue: KqlValue = null;
  for (const row of rows) {
    const v = by(row, scope);
    if (v === null) continue;
    const c = best === undefined ? null : kqlCompare(v, bestValue);
    if (best === undefined || (c !== null && (wantMax ? c > 0 : c < 0))) {
      best = row;
      bestValue = v;
    }
  }
  return best;
}
