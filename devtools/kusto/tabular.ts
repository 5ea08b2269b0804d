import { aggregate, argExtremeRow, isAggregate } from './aggregates.js';
import { tableFromDatabase, type Scope } from './environment.js';
import { compileScalar, setTabularCompiler, type ScalarFn } from './expressions.js';
import { compileJoin, compileLookup } from './join.js';
import { elements, kindOf, nameOf, staticColumns, textOf, type Node } from './syntax.js';
import { KqlError, KqlNotImplementedError, groupKey, isArray, isBag, kqlCompare, type KqlRow, type KqlTable, type KqlValue } from './values.js';

/** A compiled tabular expression. */
export type TableFn = (scope: Scope) => KqlTable;
type OperatorFn = (input: KqlTable, scope: Scope) => KqlTable;

const compiled = new WeakMap<object, TableFn>();

export function compileTabular(node: Node): TableFn {
  let fn = compiled.get(node);
  if (!fn) {
    fn = compileTabularUncached(node);
    compiled.set(node, fn);
  }
  return fn;
}
setTabularCompiler(compileTabular);

function compileTabularUncached(node: Node): TableFn {
  const kind = kindOf(node);
  switch (kind) {
    case 'NameReference': {
      const name = nameOf(node);
      return (scope) => {
        const bound = scope.lookup(name);
        if (bound?.kind === 'table') return bound.table();
        if (bound) throw new KqlError(`${name} is not a table`);
        return tableFromDatabase(scope.run, name);
      };
    }
    case 'ParenthesizedExpression':
      return compileTabular(node.Expression);
    case 'PipeExpression': {
      const input = compileTabular(node.Expression);
      const op = compileOperator(node.Operator, node);
      return (scope) => op(input(scope), scope);
    }
    case 'UnionOperator': {
      const op = compileUnion(node, staticColumns(node).map((c) => c.name));
      return (scope) => op({ columns: [], rows: [] }, scope);
    }
    case 'PrintOperator': {
      const op = compileExtend(node.Expressions, staticColumns(node).map((c) => c.name), []);
      return (scope) => op({ columns: [], rows: [newRow()] }, scope);
    }
    case 'DataTableExpression':
      return compileDataTable(node);
    default:
      throw new KqlNotImplementedError(`tabular expression ${kind} (${textOf(node)})`);
  }
}

/** datatable(A: string, B: long) [ "x", 1, … ]: values fill the columns row by row. */
function compileDataTable(node: Node): TableFn {
  refuseParameters(node, 'datatable');
  const columns = staticColumns(node).map((c) => c.name);
  const values = elements(node.Values).map((v) => compileScalar(v));
  if (columns.length === 0 || values.length % columns.length !== 0) throw new KqlError(`datatable: ${values.length} values do not fill ${columns.length} columns`);
  return (scope) => {
    const rows: KqlRow[] = [];
    for (let i = 0; i < values.length; i += columns.length) {
      const row = newRow();
      columns.forEach((c, j) => (row[c] = (values[i + j] as ScalarFn)(newRow(), scope)));
      rows.push(row);
    }
    return { columns, rows };
  };
}

function refuseParameters(node: Node, what: string): void {
  if (node.Parameters && elements(node.Parameters).length > 0) throw new KqlNotImplementedError(`${what} with parameters (${textOf(node.Parameters)})`);
}

export function newRow(): KqlRow {
  return {};
}

/** The `from` columns of a row, renamed to `to`, in a new row. */
function pick(row: KqlRow, from: string[], to: string[]): KqlRow {
  const out = newRow();
  from.forEach((c, i) => (out[to[i] as string] = row[c] ?? null));
  return out;
}

/** One pipe operator; `pipe` is the PipeExpression, whose static result gives the output columns. */
function compileOperator(op: Node, pipe: Node): OperatorFn {
  const kind = kindOf(op);
  const output = () => staticColumns(pipe).map((c) => c.name);
  switch (kind) {
    case 'FilterOperator': {
      refuseParameters(op, 'where');
      const condition = compileScalar(op.Condition);
      return (input, scope) => ({ columns: input.columns, rows: input.rows.filter((r) => condition(r, scope) === true) });
    }
    case 'ExtendOperator':
      return compileExtend(op.Expressions, output(), null);
    case 'ProjectOperator':
      return compileProject(op.Expressions, output());
    case 'ProjectAwayOperator':
      return compileProjectAway(op.Expressions);
    case 'ProjectRenameOperator':
      return compileProjectRename(op.Expressions);
    case 'UnionOperator':
      return compileUnion(op, output());
    case 'SortOperator':
      refuseParameters(op, 'sort');
      return compileSort(elements(op.Expressions));
    case 'TakeOperator': {
      refuseParameters(op, 'take');
      const count = compileScalar(op.Expression);
      return (input, scope) => ({ columns: input.columns, rows: input.rows.slice(0, Number(count({}, scope))) });
    }
    case 'TopOperator': {
      refuseParameters(op, 'top');
      const count = compileScalar(op.Expression);
      const sort = compileSort([op.ByExpression]);
      return (input, scope) => {
        const sorted = sort(input, scope);
        return { columns: sorted.columns, rows: sorted.rows.slice(0, Number(count({}, scope))) };
      };
    }
    case 'DistinctOperator':
      refuseParameters(op, 'distinct');
      return compileDistinct(op.Expressions, output());
    case 'SummarizeOperator':
      refuseParameters(op, 'summarize');
      return compileSummarize(op, output());
    case 'JoinOperator':
      return compileJoin(op, output(), compileTabular);
    case 'LookupOperator':
      return compileLookup(op, output(), compileTabular);
    case 'MvExpandOperator':
      refuseParameters(op, 'mv-expand');
      return compileMvExpand(op);
    case 'CountOperator':
      return (input) => ({ columns: ['Count'], rows: [{ Count: input.rows.length }] });
    default:
      throw new KqlNotImplementedError(`operator ${kind} (${textOf(op)})`);
  }
}

/** Column name an extend/project/summarize item gets: `Name = …`, a bare column, or the analyzer's name. */
function explicitName(item: Node): string | undefined {
  const kind = kindOf(item);
  if (kind === 'SimpleNamedExpression') return nameOf(item.Name);
  if (kind === 'CompoundNamedExpression') throw new KqlNotImplementedError(`(a, b) = … assignments (${textOf(item)})`);
  if (kind === 'NameReference') return nameOf(item);
  return undefined;
}

function valueNode(item: Node): Node {
  return kindOf(item) === 'SimpleNamedExpression' ? item.Expression : item;
}

/** extend (and print): new columns appended, same-named columns replaced in place. */
function compileExtend(list: Node, outputColumns: string[], fixedInput: string[] | null): OperatorFn {
  const items = elements(list);
  // The input's columns are the same on every run: name the new columns once.
  let assignments: Array<{ name: string; value: ScalarFn }> | undefined;
  const assign = (inputColumns: string[]) => {
    const added = outputColumns.filter((c) => !inputColumns.includes(c));
    let next = 0;
    return items.map((item) => {
      const name = explicitName(item) ?? added[next++];
      if (name === undefined) throw new KqlError(`cannot name extend column ${textOf(item)}`);
      return { name, value: compileScalar(valueNode(item)) };
    });
  };
  return (input, scope) => {
    assignments ??= assign(fixedInput ?? input.columns);
    const rows = input.rows.map((r) => {
      const out: KqlRow = { ...r };
      // Each expression sees the columns the earlier ones in the same extend made.
      for (const a of assignments as Array<{ name: string; value: ScalarFn }>) out[a.name] = a.value(out, scope);
      return out;
    });
    return { columns: outputColumns, rows };
  };
}

function compileProject(list: Node, outputColumns: string[]): OperatorFn {
  const items = elements(list);
  if (items.length !== outputColumns.length) throw new KqlNotImplementedError(`project with wildcards (${textOf(list)})`);
  const assignments = items.map((item, i) => ({ name: outputColumns[i] as string, value: compileScalar(valueNode(item)) }));
  return (input, scope) => ({
    columns: outputColumns,
    rows: input.rows.map((r) => {
      const out: KqlRow = newRow();
      for (const a of assignments) out[a.name] = a.value(r, scope);
      return out;
    }),
  });
}

function compileProjectAway(list: Node): OperatorFn {
  const names = elements(list).map((n) => {
    if (kindOf(n) !== 'NameReference') throw new KqlNotImplementedError(`project-away ${textOf(n)}`);
    return nameOf(n);
  });
  return (input) => {
    const columns = input.columns.filter((c) => !names.includes(c));
    return { columns, rows: input.rows.map((r) => pick(r, columns, columns)) };
  };
}

function compileProjectRename(list: Node): OperatorFn {
  const renames = elements(list).map((item) => {
    if (kindOf(item) !== 'SimpleNamedExpression' || kindOf(item.Expression) !== 'NameReference') throw new KqlNotImplementedError(`project-rename ${textOf(item)}`);
    return { to: nameOf(item.Name), from: nameOf(item.Expression) };
  });
  return (input) => {
    const columns = input.columns.map((c) => renames.find((r) => r.from === c)?.to ?? c);
    return { columns, rows: input.rows.map((r) => pick(r, input.columns, columns)) };
  };
}

/** union: rows of every table in turn; columns a table lacks are null (learn.microsoft.com/kusto/query/union-operator). */
function compileUnion(op: Node, outputColumns: string[]): OperatorFn {
  refuseParameters(op, 'union');
  const tables = elements(op.Expressions).map((e) => compileTabular(e));
  return (input, scope) => {
    const parts = [input, ...tables.map((t) => t(scope))];
    const rows = parts.flatMap((t) => t.rows);
    return { columns: outputColumns, rows };
  };
}

interface SortKey {
  value: ScalarFn;
  descending: boolean;
  nullsFirst: boolean;
}

/** sort/order by: descending unless `asc`; nulls first when ascending, last when descending. */
function compileSort(items: Node[]): OperatorFn {
  const keys: SortKey[] = items.map((item) => {
    const ordered = kindOf(item) === 'OrderedExpression';
    const expr = ordered ? item.Expression : item;
    const ordering = ordered ? item.Ordering : null;
    const dir = ordering?.AscOrDescKeyword ? String(ordering.AscOrDescKeyword.Text).toLowerCase() : 'desc';
    const nulls = ordering?.NullsClause ? String(ordering.NullsClause.FirstOrLastKeyword.Text).toLowerCase() : undefined;
    const descending = dir === 'desc';
    return { value: compileScalar(expr), descending, nullsFirst: nulls ? nulls === 'first' : !descending };
  });
  return (input, scope) => {
    const decorated = input.rows.map((row, index) => ({ row, index, values: keys.map((k) => k.value(row, scope)) }));
    decorated.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as SortKey;
        const av = a.values[i] ?? null;
        const bv = b.values[i] ?? null;
        if (av === null || bv === null) {
          if (av === null && bv === null) continue;
          return (av === null) === key.nullsFirst ? -1 : 1;
        }
        const c = kqlCompare(av, bv) ?? 0;
        if (c !== 0) return key.descending ? -c : c;
      }
      return a.index - b.index;
    });
    return { columns: input.columns, rows: decorated.map((d) => d.row) };
  };
}

function compileDistinct(list: Node, outputColumns: string[]): OperatorFn {
  const items = elements(list);
  const all = items.length === 1 && kindOf(items[0]) === 'StarExpression';
  const project = all ? null : compileProject(list, outputColumns);
  return (input, scope) => {
    const t = project ? project(input, scope) : input;
    const seen = new Set<string>();
    const rows = t.rows.filter((r) => {
      const k = outputColumns.map((c) => groupKey(r[c] ?? null)).join('\u0000');
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    return { columns: outputColumns, rows: rows.map((r) => pick(r, outputColumns, outputColumns)) };
  };
}

interface AggregateItem {
  name: string;
  args: ScalarFn[];
  /** arg_max/arg_min: the output columns it fills from the chosen row. */
  argColumns?: string[];
}

function compileSummarize(op: Node, outputColumns: string[]): OperatorFn {
  const byItems = op.ByClause ? elements(op.ByClause.Expressions) : [];
  const keyNames = outputColumns.slice(0, byItems.length);
  const keys = byItems.map((b) => compileScalar(valueNode(b)));
  const aggNodes = elements(op.Aggregates);
  const rest = outputColumns.slice(byItems.length);
  const argCount = aggNodes.filter((a) => ['arg_max', 'arg_min'].includes(nameOf(valueNode(a)).toString())).length;
  if (argCount > 1) throw new KqlNotImplementedError('more than one arg_max/arg_min in one summarize');
  let at = 0;
  const aggs: AggregateItem[] = aggNodes.map((a) => {
    const call = valueNode(a);
    if (kindOf(call) !== 'FunctionCallExpression') throw new KqlNotImplementedError(`summarize item ${textOf(a)}`);
    const fname = nameOf(call.Name);
    if (!isAggregate(fname)) throw new KqlNotImplementedError(`aggregation function ${fname}()`);
    const argNodes = elements(call.ArgumentList.Expressions);
    if (fname === 'arg_max' || fname === 'arg_min') {
      const width = rest.length - (aggNodes.length - 1);
      const cols = rest.slice(at, at + width);
      at += width;
      return { name: fname, args: [compileScalar(argNodes[0])], argColumns: cols };
    }
    const args = argNodes.map((n) => compileScalar(n));
    return { name: fname, args, argColumns: [rest[at++] as string] };
  });
  return (input, scope) => {
    const groups = new Map<string, { keyValues: KqlValue[]; rows: KqlRow[] }>();
    for (const row of input.rows) {
      const keyValues = keys.map((k) => k(row, scope));
      const k = keyValues.map(groupKey).join('\u0000');
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { keyValues, rows: [] }));
      g.rows.push(row);
    }
    // Without `by`, summarize returns one row even over no input.
    if (keys.length === 0 && groups.size === 0) groups.set('', { keyValues: [], rows: [] });
    const rows = [...groups.values()].map((g) => {
      const out: KqlRow = newRow();
      keyNames.forEach((n, i) => (out[n] = g.keyValues[i] ?? null));
      for (const a of aggs) fillAggregate(out, a, g.rows, scope);
      return out;
    });
    return { columns: outputColumns, rows };
  };
}

function fillAggregate(out: KqlRow, a: AggregateItem, rows: KqlRow[], scope: Scope): void {
  const cols = a.argColumns ?? [];
  if (a.name === 'arg_max' || a.name === 'arg_min') {
    const best = argExtremeRow(rows, a.args[0] as ScalarFn, scope, a.name === 'arg_max');
    const [first, ...others] = cols;
    if (first !== undefined) out[first] = best ? (a.args[0] as ScalarFn)(best, scope) : null;
    for (const c of others) out[c] = best ? (best[c] ?? null) : null;
    return;
  }
  out[cols[0] as string] = aggregate(a.name, rows, a.args, scope);
}

/** mv-expand: one row per element of the array column (learn.microsoft.com/kusto/query/mv-expand-operator). */
function compileMvExpand(op: Node): OperatorFn {
  if (op.RowLimitClause) throw new KqlNotImplementedError('mv-expand limit');
  const items = elements(op.Expressions).map((e) => {
    const expr = e.Expression;
    if (e.ToTypeOf) throw new KqlNotImplementedError('mv-expand … to typeof()');
    const name = explicitName(expr);
    if (!name) throw new KqlNotImplementedError(`mv-expand of ${textOf(expr)}`);
    return { name, value: compileScalar(valueNode(expr)) };
  });
  return (input, scope) => {
    const rows: KqlRow[] = [];
    for (const row of input.rows) {
      const arrays = items.map((i) => {
        const v = i.value(row, scope);
        if (isArray(v)) return v as KqlValue[];
        if (isBag(v)) return Object.entries(v).map(([k, x]) => ({ [k]: x }) as KqlValue);
        return [v];
      });
      const n = Math.max(...arrays.map((a) => a.length));
      for (let i = 0; i < n; i++) {
        const out: KqlRow = { ...row };
        items.forEach((item, j) => (out[item.name] = (arrays[j] as KqlValue[])[i] ?? null));
        rows.push(out);
      }
    }
    const columns = [...new Set([...input.columns, ...items.map((i) => i.name)])];
    return { columns, rows };
  };
}
