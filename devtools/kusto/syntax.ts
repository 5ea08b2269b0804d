import { language } from '../../shared/detections/kql-validator.js';
import { KqlDateTime, KqlError, KqlNotImplementedError, KqlTimespan, parseDateTime, type KqlValue } from './values.js';

/**
 * Helpers over the language service's syntax tree (@kusto/language-service-next, a Bridge.NET
 * build: nodes expose their C# properties; lists are walked through ChildCount/GetChild).
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Node = any;

let kindNames: Record<number, string> | undefined;

/** The SyntaxKind name of a node, e.g. "PipeExpression". */
export function kindOf(node: Node): string {
  if (!kindNames) {
    kindNames = {};
    for (const [name, value] of Object.entries(language().Syntax.SyntaxKind)) if (typeof value === 'number') kindNames[value] = name;
  }
  return kindNames[node.Kind as number] ?? `kind ${String(node.Kind)}`;
}

/** The elements of a SyntaxList (unwrapping SeparatedElement). */
export function elements(list: Node): Node[] {
  const out: Node[] = [];
  if (!list) return out;
  for (let i = 0; i < list.ChildCount; i++) {
    const child = list.GetChild(i);
    if (!child) continue;
    out.push(kindOf(child) === 'SeparatedElement' ? child.GetChild(0) : child);
  }
  return out;
}

export function nameOf(node: Node): string {
  return String(node.SimpleName ?? node.Name?.SimpleName ?? node.Text);
}

/** The query text a node spans, for error messages. */
export function textOf(node: Node): string {
  return String(node.ToString?.() ?? kindOf(node)).trim().slice(0, 120);
}

/** The static type name the analyzer bound to an expression ("string", "long", "dynamic", …), if any. */
export function staticType(node: Node): string | undefined {
  const t = node?.ResultType;
  if (!t) return undefined;
  const cls = String(t.constructor?.$$name ?? '');
  if (cls.endsWith('TableSymbol')) return 'table';
  if (cls.endsWith('DynamicBagSymbol') || cls.endsWith('DynamicArraySymbol') || cls.endsWith('DynamicPrimitiveSymbol')) return 'dynamic';
  return t.Name ? String(t.Name) : undefined;
}

export interface StaticColumn {
  name: string;
  type: string;
}

/** The columns of a tabular expression's result, as the analyzer computed them. */
export function staticColumns(node: Node): StaticColumn[] {
  const t = node?.ResultType;
  if (!t || !String(t.constructor?.$$name ?? '').endsWith('TableSymbol')) throw new KqlError(`not a tabular expression: ${textOf(node)}`);
  const out: StaticColumn[] = [];
  for (let i = 0; i < t.Columns.Count; i++) {
    const c = t.Columns.getItem(i);
    out.push({ name: String(c.Name), type: String(c.Type?.Name ?? 'dynamic') });
  }
  return out;
}

/** The value of a literal expression node. */
export function literalValue(node: Node): KqlValue {
  const kind = kindOf(node);
  switch (kind) {
    case 'StringLiteralExpression':
    case 'CompoundStringLiteralExpression':
      return String(node.LiteralValue ?? '');
    case 'BooleanLiteralExpression':
    case 'RealLiteralExpression':
    case 'LongLiteralExpression':
    case 'IntLiteralExpression':
    case 'DecimalLiteralExpression':
      return unbox(node.LiteralValue);
    case 'NullLiteralExpression':
      return null;
    case 'TimespanLiteralExpression': {
      const v = node.LiteralValue;
      return v === null || v === undefined ? null : new KqlTimespan(Number(String(v.getTicks())) / 10_000);
    }
    case 'DateTimeLiteralExpression': {
      const m = /^datetime\s*\(\s*(.*?)\s*\)$/is.exec(String(node.Token?.Text ?? ''));
      if (!m) throw new KqlNotImplementedError(`datetime literal ${textOf(node)}`);
      const v = parseDateTime(m[1] as string);
      if (v === null && m[1] !== 'null') throw new KqlNotImplementedError(`datetime literal ${textOf(node)}`);
      return v instanceof KqlDateTime ? v : null;
    }
    default:
      throw new KqlNotImplementedError(`literal ${kind}`);
  }
}

function unbox(v: any): KqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && '$boxed' in v) return v.v as KqlValue;
  if (typeof v === 'object' && v.$$name === undefined && typeof v.toNumber === 'function') return v.toNumber() as number;
  if (typeof v === 'object') return Number(String(v));
  return v as KqlValue;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
