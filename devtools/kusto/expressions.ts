import { Scope } from './environment.js';
import { callScalar } from './scalar-functions.js';
import { stringOperator } from './string-operators.js';
import { elements, kindOf, literalValue, nameOf, staticType, textOf, type Node } from './syntax.js';
import {
  INGESTION_TIME,
  KqlDateTime,
  KqlError,
  KqlNotImplementedError,
  KqlTimespan,
  isArray,
  isBag,
  kqlCompare,
  kqlEquals,
  toKqlString,
  type KqlRow,
  type KqlTable,
  type KqlValue,
} from './values.js';

/** A compiled scalar expression: evaluated once per row. */
export type ScalarFn = (row: KqlRow, scope: Scope) => KqlValue;

/** Compiles tabular expressions; injected to avoid a module cycle with tabular.ts. */
export type TabularCompiler = (node: Node) => (scope: Scope) => KqlTable;
let compileTabularRef: TabularCompiler | undefined;
export function setTabularCompiler(f: TabularCompiler): void {
  compileTabularRef = f;
}
function compileTabular(node: Node): (scope: Scope) => KqlTable {
  if (!compileTabularRef) throw new KqlError('tabular compiler not set');
  return compileTabularRef(node);
}

const LITERALS = new Set([
  'StringLiteralExpression',
  'CompoundStringLiteralExpression',
  'BooleanLiteralExpression',
  'RealLiteralExpression',
  'LongLiteralExpression',
  'IntLiteralExpression',
  'NullLiteralExpression',
  'TimespanLiteralExpression',
  'DateTimeLiteralExpression',
]);

const compiled = new WeakMap<object, ScalarFn>();

export function compileScalar(node: Node): ScalarFn {
  let fn = compiled.get(node);
  if (!fn) {
    fn = compileUncached(node);
    // Strings are never null in Kusto: a string-typed expression without a value is "".
    if (staticType(node) === 'string') {
      const inner = fn;
      fn = (row, scope) => inner(row, scope) ?? '';
    }
    compiled.set(node, fn);
  }
  return fn;
}

function compileUncached(node: Node): ScalarFn {
  const kind = kindOf(node);
  if (LITERALS.has(kind)) {
    const v = literalValue(node);
    return () => v;
  }
  switch (kind) {
    case 'DynamicExpression': {
      const v = jsonValue(node.Expression);
      return () => structuredClone(v) as KqlValue;
    }
    case 'ParenthesizedExpression':
      return compileScalar(node.Expression);
    case 'NameReference':
      return compileName(node);
    case 'PathExpression':
      return compileMember(node);
    case 'ElementExpression':
      return compileElement(node);
    case 'FunctionCallExpression':
      return compileCall(node);
    case 'UnaryMinusExpression': {
      const e = compileScalar(node.Expression);
      return (row, scope) => negate(e(row, scope));
    }
    case 'UnaryPlusExpression':
      return compileScalar(node.Expression);
    case 'AndExpression':
    case 'OrExpression':
      return compileLogical(node, kind === 'AndExpression');
    case 'InExpression':
    case 'InCsExpression':
    case 'NotInExpression':
    case 'NotInCsExpression':
      return compileIn(node, kind);
    case 'HasAnyExpression':
      return compileHasAny(node);
    case 'BetweenExpression':
    case 'NotBetweenExpression':
      return compileBetween(node, kind === 'NotBetweenExpression');
    default:
      return compileBinary(node, kind);
  }
}

/** The value of a dynamic(...) literal's JSON. */
function jsonValue(node: Node): unknown {
  const kind = kindOf(node);
  if (kind === 'JsonArrayExpression') return elements(node.Values).map(jsonValue);
  if (kind === 'JsonObjectExpression') {
    const out: Record<string, unknown> = {};
    for (const pair of elements(node.Pairs)) out[String(literalValue(pair.Name))] = jsonValue(pair.Value);
    return out;
  }
  if (kind === 'UnaryMinusExpression') return -(jsonValue(node.Expression) as number);
  const v = literalValue(node);
  if (v instanceof KqlDateTime || v instanceof KqlTimespan) throw new KqlNotImplementedError('datetime/timespan inside dynamic()');
  return v;
}

/**
 * A name is a column or a let/parameter as the analyzer bound it. Rows hold only the columns that
 * have values (an absent column reads as null, then "" when the column is a string).
 */
function compileName(node: Node): ScalarFn {
  const name = nameOf(node);
  const symbol = String(node.ReferencedSymbol?.constructor?.$$name ?? '');
  if (symbol.endsWith('ColumnSymbol')) {
    return (row) => {
      const v = row[name];
      return v === undefined ? null : v;
    };
  }
  return (_row, scope) => {
    const bound = scope.lookup(name);
    if (bound?.kind === 'value') return bound.value;
    if (bound) throw new KqlError(`${name} is a ${bound.kind}, used as a scalar`);
    throw new KqlError(`${name} is not bound (${symbol || 'no symbol'})`);
  };
}

function compileMember(node: Node): ScalarFn {
  const target = compileScalar(node.Expression);
  const member = nameOf(node.Selector);
  return (row, scope) => {
    const v = target(row, scope);
    return isBag(v) ? ((v[member] as KqlValue) ?? null) : null;
  };
}

function compileElement(node: Node): ScalarFn {
  const target = compileScalar(node.Expression);
  const selectorNode = node.Selector;
  if (kindOf(selectorNode) !== 'BracketedExpression') throw new KqlNotImplementedError(`element access ${textOf(node)}`);
  const selector = compileScalar(selectorNode.Expression);
  return (row, scope) => {
    const v = target(row, scope);
    const s = selector(row, scope);
    if (isArray(v) && typeof s === 'number') return (v[s < 0 ? v.length + s : s] as KqlValue) ?? null;
    if (isBag(v) && typeof s === 'string') return (v[s] as KqlValue) ?? null;
    return null;
  };
}

function compileCall(node: Node): ScalarFn {
  const name = nameOf(node.Name);
  const argNodes = elements(node.ArgumentList.Expressions);
  const args = argNodes.map((a) => compileScalar(a));
  if (name === 'ingestion_time') {
    return (row) => (row[INGESTION_TIME] as KqlValue) ?? null;
  }
  const conditional = compileConditional(name, args);
  if (conditional) return conditional;
  return (row, scope) => {
    const bound = scope.lookup(name);
    if (bound?.kind === 'function') return callUserFunction(bound.declaration, bound.scope, args.map((a) => a(row, scope)), row);
    return callScalar(
      name,
      args.map((a) => a(row, scope)),
      { now: scope.run.now, ingestionTime: null },
    );
  };
}

/**
 * iff/iif and case evaluate only the branch they return, as the documentation's examples rely on
 * (e.g. substring() guarded by a test of its index).
 */
function compileConditional(name: string, args: ScalarFn[]): ScalarFn | undefined {
  if ((name === 'iff' || name === 'iif') && args.length === 3) {
    const [c, a, b] = args as [ScalarFn, ScalarFn, ScalarFn];
    return (row, scope) => (c(row, scope) === true ? a(row, scope) : b(row, scope));
  }
  if (name === 'case' && args.length >= 3 && args.length % 2 === 1) {
    return (row, scope) => {
      for (let i = 0; i + 1 < args.length; i += 2) if ((args[i] as ScalarFn)(row, scope) === true) return (args[i + 1] as ScalarFn)(row, scope);
      return (args[args.length - 1] as ScalarFn)(row, scope);
    };
  }
  return undefined;
}

/** A `let F = (a: string) { … }` function called on a row: its parameters shadow the row's columns. */
function callUserFunction(declaration: Node, defined: Scope, args: KqlValue[], row: KqlRow): KqlValue {
  const params = elements(declaration.Parameters.Parameters).map((p) => nameOf(p.NameAndType.Name));
  if (args.length !== params.length) throw new KqlError(`function takes ${params.length} arguments, got ${args.length}`);
  const scope = defined.child();
  params.forEach((p, i) => scope.bindParameter(p, args[i] ?? null));
  const body = declaration.Body;
  for (const statement of elements(body.Statements)) bindLet(statement, scope);
  if (staticType(body.Expression) === 'table') throw new KqlNotImplementedError('tabular user functions');
  return compileScalar(body.Expression)(row, scope);
}

/** Binds one `let` statement in a scope (values evaluated now, tables lazily, functions as declared). */
export function bindLet(statement: Node, scope: Scope): void {
  if (kindOf(statement) !== 'LetStatement') throw new KqlNotImplementedError(`statement ${kindOf(statement)}`);
  const name = nameOf(statement.Name);
  const expr = statement.Expression;
  if (kindOf(expr) === 'FunctionDeclaration') {
    scope.bind(name, { kind: 'function', declaration: expr, scope });
  } else if (staticType(expr) === 'table') {
    const build = compileTabular(expr);
    let cached: KqlTable | undefined;
    scope.bind(name, { kind: 'table', table: () => (cached ??= build(scope)) });
  } else {
    scope.bind(name, { kind: 'value', value: compileScalar(expr)({}, scope) });
  }
}

function compileLogical(node: Node, isAnd: boolean): ScalarFn {
  const left = compileScalar(node.Left);
  const right = compileScalar(node.Right);
  return (row, scope) => {
    const l = left(row, scope);
    if (isAnd && l === false) return false;
    if (!isAnd && l === true) return true;
    const r = right(row, scope);
    if (isAnd) return r === false ? false : l === true && r === true ? true : null;
    return r === true ? true : l === false && r === false ? false : null;
  };
}

/** The values an `in` list stands for: scalars, dynamic arrays spread, or a table's first column. */
function compileInList(listNode: Node): (row: KqlRow, scope: Scope) => KqlValue[] {
  const parts = elements(listNode.Expressions).map((e) => {
    if (staticType(e) === 'table') {
      const build = compileTabular(e);
      return (_row: KqlRow, scope: Scope): KqlValue[] => {
        let values = scope.run.memo.get(e) as KqlValue[] | undefined;
        if (!values) {
          const t = build(scope);
          const first = t.columns[0];
          values = first === undefined ? [] : t.rows.map((r) => r[first] ?? null);
          scope.run.memo.set(e, values);
        }
        return values;
      };
    }
    const f = compileScalar(e);
    return (row: KqlRow, scope: Scope): KqlValue[] => {
      const v = f(row, scope);
      return isArray(v) ? (v as KqlValue[]) : [v];
    };
  });
  return (row, scope) => parts.flatMap((p) => p(row, scope));
}

function compileIn(node: Node, kind: string): ScalarFn {
  const left = compileScalar(node.Left);
  const list = compileInList(node.Right);
  // Read the operator token itself: `in`/`!in` compare case-sensitively, `in~`/`!in~` do not.
  const token = String(node.Operator?.Text ?? '');
  if (!['in', 'in~', '!in', '!in~'].includes(token)) throw new KqlNotImplementedError(`operator ${token || kind}`);
  const caseSensitive = !token.endsWith('~');
  const negated = token.startsWith('!');
  return (row, scope) => {
    const l = left(row, scope);
    if (l === null) return negated;
    const values = list(row, scope);
    const found = caseSensitive
      ? values.some((v) => kqlEquals(l, v))
      : values.some((v) => v !== null && toKqlString(v).toLowerCase() === toKqlString(l).toLowerCase());
    return negated ? !found : found;
  };
}

function compileHasAny(node: Node): ScalarFn {
  const left = compileScalar(node.Left);
  const list = compileInList(node.Right);
  const has = stringOperator('HasExpression') as (l: KqlValue, r: KqlValue) => boolean;
  return (row, scope) => {
    const l = left(row, scope);
    return list(row, scope).some((v) => has(l, v));
  };
}

/** `x between (a .. b)`: a <= x <= b, inclusive (learn.microsoft.com/kusto/query/between-operator). */
function compileBetween(node: Node, negated: boolean): ScalarFn {
  const value = compileScalar(node.Left);
  const low = compileScalar(node.Right.First);
  const high = compileScalar(node.Right.Second);
  return (row, scope) => {
    const v = value(row, scope);
    const lo = kqlCompare(v, low(row, scope));
    const hi = kqlCompare(v, high(row, scope));
    if (lo === null || hi === null) return null;
    const inside = lo >= 0 && hi <= 0;
    return negated ? !inside : inside;
  };
}

function compileBinary(node: Node, kind: string): ScalarFn {
  const op = binaryOperator(kind);
  if (!op || !node.Left || !node.Right) throw new KqlNotImplementedError(`expression ${kind} (${textOf(node)})`);
  const left = compileScalar(node.Left);
  const right = compileScalar(node.Right);
  const integer = staticType(node) === 'long' || staticType(node) === 'int';
  return (row, scope) => op(left(row, scope), right(row, scope), integer);
}

type BinaryOp = (l: KqlValue, r: KqlValue, integer: boolean) => KqlValue;

function binaryOperator(kind: string): BinaryOp | undefined {
  const str = stringOperator(kind);
  if (str) return (l, r) => str(l, r);
  const cmp = (test: (c: number) => boolean): BinaryOp => (l, r) => {
    const c = kqlCompare(l, r);
    return c === null ? null : test(c);
  };
  switch (kind) {
    case 'EqualExpression':
      return (l, r) => (l === null || r === null ? null : kqlEquals(l, r));
    case 'NotEqualExpression':
      return (l, r) => (l === null || r === null ? null : !kqlEquals(l, r));
    case 'LessThanExpression':
      return cmp((c) => c < 0);
    case 'LessThanOrEqualExpression':
      return cmp((c) => c <= 0);
    case 'GreaterThanExpression':
      return cmp((c) => c > 0);
    case 'GreaterThanOrEqualExpression':
      return cmp((c) => c >= 0);
    case 'AddExpression':
      return add;
    case 'SubtractExpression':
      return subtract;
    case 'MultiplyExpression':
      return (l, r) => (typeof l === 'number' && typeof r === 'number' ? l * r : null);
    case 'DivideExpression':
      return (l, r, integer) => (typeof l === 'number' && typeof r === 'number' ? (integer ? (r === 0 ? null : Math.trunc(l / r)) : l / r) : null);
    case 'ModuloExpression':
      return (l, r) => (typeof l === 'number' && typeof r === 'number' && r !== 0 ? l % r : null);
    default:
      return undefined;
  }
}

function add(l: KqlValue, r: KqlValue): KqlValue {
  if (typeof l === 'number' && typeof r === 'number') return l + r;
  if (l instanceof KqlDateTime && r instanceof KqlTimespan) return new KqlDateTime(l.ms + r.ms);
  if (l instanceof KqlTimespan && r instanceof KqlDateTime) return new KqlDateTime(l.ms + r.ms);
  if (l instanceof KqlTimespan && r instanceof KqlTimespan) return new KqlTimespan(l.ms + r.ms);
  return null;
}

function subtract(l: KqlValue, r: KqlValue): KqlValue {
  if (typeof l === 'number' && typeof r === 'number') return l - r;
  if (l instanceof KqlDateTime && r instanceof KqlTimespan) return new KqlDateTime(l.ms - r.ms);
  if (l instanceof KqlDateTime && r instanceof KqlDateTime) return new KqlTimespan(l.ms - r.ms);
  if (l instanceof KqlTimespan && r instanceof KqlTimespan) return new KqlTimespan(l.ms - r.ms);
  return null;
}

function negate(v: KqlValue): KqlValue {
  if (typeof v === 'number') return -v;
  if (v instanceof KqlTimespan) return new KqlTimespan(-v.ms);
  return null;
}
