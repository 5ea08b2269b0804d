import type { Scope } from './environment.js';
import type { ScalarFn } from './expressions.js';
import { elements, kindOf, nameOf, textOf, type Node } from './syntax.js';
import { KqlNotImplementedError, groupKey, type KqlRow, type KqlTable } from './values.js';

/**
 * join and lookup (learn.microsoft.com/kusto/query/join-operator, lookup-operator): equality on
 * `Key` or `$left.A == $right.B`. join's default kind is innerunique (left rows deduplicated on the
 * key first); its output keeps both sides' columns, the right side's clashing names suffixed (Key1).
 * lookup's default kind is leftouter and it keeps the right side's key columns out.
 */

type OperatorFn = (input: KqlTable, scope: Scope) => KqlTable;
type TabularCompiler = (node: Node) => (scope: Scope) => KqlTable;

const JOIN_KINDS = new Set(['inner', 'innerunique', 'leftouter', 'leftanti', 'leftsemi']);

interface Keys {
  left: ScalarFn[];
  right: ScalarFn[];
  rightNames: string[];
}

function kindParameter(op: Node, fallback: string): string {
  let kind = fallback;
  for (const p of elements(op.Parameters)) {
    const name = nameOf(p.Name);
    if (name !== 'kind') throw new KqlNotImplementedError(`${kindOf(op)} parameter ${name}`);
    kind = String(p.Expression.Token?.Text ?? textOf(p.Expression)).toLowerCase();
  }
  return kind;
}

function sideColumn(node: Node, side: '$left' | '$right'): string | undefined {
  if (kindOf(node) !== 'PathExpression') return undefined;
  return nameOf(node.Expression) === side ? nameOf(node.Selector) : undefined;
}

function joinKeys(clause: Node): Keys {
  if (!clause || kindOf(clause) !== 'JoinOnClause') throw new KqlNotImplementedError(`join condition ${clause ? textOf(clause) : '(none)'}`);
  const keys: Keys = { left: [], right: [], rightNames: [] };
  for (const e of elements(clause.Expressions)) {
    if (kindOf(e) === 'NameReference') {
      const name = nameOf(e);
      const f: ScalarFn = (row) => row[name] ?? null;
      keys.left.push(f);
      keys.right.push(f);
      keys.rightNames.push(name);
      continue;
    }
    const l = kindOf(e) === 'EqualExpression' ? (sideColumn(e.Left, '$left') ?? sideColumn(e.Right, '$left')) : undefined;
    const r = kindOf(e) === 'EqualExpression' ? (sideColumn(e.Right, '$right') ?? sideColumn(e.Left, '$right')) : undefined;
    if (!l || !r) throw new KqlNotImplementedError(`join condition ${textOf(e)}`);
    keys.left.push((row) => row[l] ?? null);
    keys.right.push((row) => row[r] ?? null);
    keys.rightNames.push(r);
  }
  return keys;
}

const keyOf = (fns: ScalarFn[], row: KqlRow, scope: Scope) => fns.map((f) => groupKey(f(row, scope))).join('\u0000');

function indexRight(right: KqlTable, keys: Keys, scope: Scope): Map<string, KqlRow[]> {
  const index = new Map<string, KqlRow[]>();
  for (const row of right.rows) {
    // Null keys never match (join on equality).
    if (keys.right.some((f) => f(row, scope) === null)) continue;
    const k = keyOf(keys.right, row, scope);
    const list = index.get(k);
    if (list) list.push(row);
    else index.set(k, [row]);
  }
  return index;
}

function merge(left: KqlRow, right: KqlRow | undefined, leftColumns: string[], rightColumns: string[], outputColumns: string[]): KqlRow {
  const out: KqlRow = {};
  leftColumns.forEach((c, i) => (out[outputColumns[i] as string] = left[c] ?? null));
  rightColumns.forEach((c, i) => (out[outputColumns[leftColumns.length + i] as string] = right ? (right[c] ?? null) : null));
  return out;
}

export function compileJoin(op: Node, outputColumns: string[], compileTabular: TabularCompiler): OperatorFn {
  const kind = kindParameter(op, 'innerunique');
  if (!JOIN_KINDS.has(kind)) throw new KqlNotImplementedError(`join kind=${kind}`);
  const rightFn = compileTabular(op.Expression);
  const keys = joinKeys(op.ConditionClause);
  return (input, scope) => {
    const right = rightFn(scope);
    const index = indexRight(right, keys, scope);
    const matches = (row: KqlRow) => (keys.left.some((f) => f(row, scope) === null) ? [] : (index.get(keyOf(keys.left, row, scope)) ?? []));
    if (kind === 'leftanti') return { columns: input.columns, rows: input.rows.filter((r) => matches(r).length === 0) };
    if (kind === 'leftsemi') return { columns: input.columns, rows: input.rows.filter((r) => matches(r).length > 0) };
    if (outputColumns.length !== input.columns.length + right.columns.length) throw new KqlNotImplementedError(`join output shape (${textOf(op)})`);
    let left = input.rows;
    if (kind === 'innerunique') {
      const seen = new Set<string>();
      left = left.filter((r) => {
        const k = keyOf(keys.left, r, scope);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    const rows: KqlRow[] = [];
    for (const l of left) {
      const m = matches(l);
      if (m.length === 0 && kind === 'leftouter') rows.push(merge(l, undefined, input.columns, right.columns, outputColumns));
      for (const r of m) rows.push(merge(l, r, input.columns, right.columns, outputColumns));
    }
    return { columns: outputColumns, rows };
  };
}

export function compileLookup(op: Node, outputColumns: string[], compileTabular: TabularCompiler): OperatorFn {
  const kind = kindParameter(op, 'leftouter');
  if (kind !== 'leftouter' && kind !== 'inner') throw new KqlNotImplementedError(`lookup kind=${kind}`);
  const rightFn = compileTabular(op.Expression);
  const keys = joinKeys(op.LookupClause);
  return (input, scope) => {
    const right = rightFn(scope);
    const rightColumns = right.columns.filter((c) => !keys.rightNames.includes(c));
    if (outputColumns.length !== input.columns.length + rightColumns.length) throw new KqlNotImplementedError(`lookup output shape (${textOf(op)})`);
    const index = indexRight(right, keys, scope);
    const rows: KqlRow[] = [];
    for (const l of input.rows) {
      const m = keys.left.some((f) => f(l, scope) === null) ? [] : (index.get(keyOf(keys.left, l, scope)) ?? []);
      if (m.length === 0 && kind === 'leftouter') rows.push(merge(l, undefined, input.columns, rightColumns, outputColumns));
      for (const r of m) rows.push(merge(l, r, input.columns, rightColumns, outputColumns));
    }
    return { columns: outputColumns, rows };
  };
}
