import { escapeRegex } from '../../kql/regex.js';
import { keyValueRegex, paramValue, regexSource } from '../definition/params.js';
import type { Expr, KustoType, Regex } from '../definition/types.js';
import { splExtract, splString } from './spl-text.js';

/**
 * A definition expression as SPL eval text, with Kusto's semantics kept where SPL differs:
 * - strings are never null: the source adapters give every column a value, and every string
 *   node yields "" rather than null (extract on no match, coalesce over blanks);
 * - coalesce skips empty strings (SPL's keeps a blank value, so blanks become null first);
 * - SPL has no boolean fields: a boolean stored by `extend` is 1/0, read back as `x==1`;
 * - arrays are multivalue fields; an empty array is null (mvappend and mvcount skip it);
 * - == / in are case-sensitive, =~ / in~ / has / contains / startswith / endswith are not;
 * - substring is 0-based in Kusto and 1-based in SPL; indexof is -1 when absent.
 * Regexes are RE2 in the definition and PCRE in Splunk: the patterns definitions use
 * (classes, groups, alternation, anchors, greedy quantifiers, inline (?i)) mean the same in both.
 * A node SPL cannot express is compiled to a conservative constant and reported in
 * `limitations` (never silently): the export prints them.
 */

export type ColumnKind = 'bool' | 'array' | 'value';

export interface SplContext {
  params: Record<string, unknown>;
  /** Kind of every column known so far (source columns and earlier extends). */
  columns: Map<string, ColumnKind>;
  /** What SPL could not express, in words; filled while compiling. */
  limitations: Set<string>;
}

/** Separates extract_all results before they are split into a multivalue field. */
const ALL_SEPARATOR = '~~certsoar~~';

export function kindOfKustoType(type: KustoType): ColumnKind {
  if (type === 'bool') return 'bool';
  if (type === 'dynamic') return 'array';
  return 'value';
}

/** Whether the expression is a boolean (SPL: a condition, not a value). */
export function kindOf(e: Expr, ctx: SplContext): ColumnKind {
  switch (e.op) {
    case 'and':
    case 'or':
    case 'not':
    case 'cmp':
    case 'in':
    case 'str':
    case 'matches':
    case 'isempty':
    case 'isnotempty':
    case 'set_has_element':
      return 'bool';
    case 'lit':
      return typeof e.value === 'boolean' ? 'bool' : Array.isArray(e.value) ? 'array' : 'value';
    case 'col':
      return ctx.columns.get(e.name) ?? 'value';
    case 'iff':
      return kindOf(e.then, ctx);
    case 'case':
      return kindOf(e.else, ctx);
    case 'extract_all':
    case 'array_concat':
    case 'pack_array':
      return 'array';
    case 'param':
      return Array.isArray(paramValue(ctx.params, e.path)) ? 'array' : typeof paramValue(ctx.params, e.path) === 'boolean' ? 'bool' : 'value';
    default:
      return 'value';
  }
}

const regex = (r: Regex, ctx: SplContext) => regexSource(r, ctx.params);

function literal(value: unknown): string {
  if (typeof value === 'string') return splString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  if (typeof value === 'boolean') return value ? '1' : '0';
  throw new Error(`SPL: unsupported literal ${JSON.stringify(value)}`);
}

/** The values of a list (a list parameter or literal array), for IN lists. */
function listValues(e: Expr, ctx: SplContext): unknown[] {
  if (e.op === 'param') {
    const v = paramValue(ctx.params, e.path);
    if (!Array.isArray(v)) throw new Error(`SPL: parameter ${e.path} is not a list`);
    return v;
  }
  if (e.op === 'lit' && Array.isArray(e.value)) return [...e.value];
  throw new Error(`SPL: "in" needs a list parameter or a literal list, got ${e.op}`);
}

/** A condition (SPL boolean expression). */
export function splCondition(e: Expr, ctx: SplContext): string {
  switch (e.op) {
    case 'and':
      return `(${e.args.map((a) => splCondition(a, ctx)).join(' AND ')})`;
    case 'or':
      return `(${e.args.map((a) => splCondition(a, ctx)).join(' OR ')})`;
    case 'not':
      return `NOT (${splCondition(e.arg, ctx)})`;
    case 'cmp':
      return compare(e.cmp, e.left, e.right, ctx);
    case 'in':
      return inList(e.in, e.value, e.list, ctx);
    case 'str':
      return stringOp(e.str, e.value, e.term, ctx);
    case 'matches':
      return `match(${splValue(e.value, ctx)}, ${splString(regex(e.regex, ctx))})`;
    case 'isempty':
      return kindOf(e.value, ctx) === 'array' ? `coalesce(mvcount(${splValue(e.value, ctx)}), 0)==0` : `len(${splValue(e.value, ctx)})==0`;
    case 'isnotempty':
      return kindOf(e.value, ctx) === 'array' ? `coalesce(mvcount(${splValue(e.value, ctx)}), 0)>0` : `len(${splValue(e.value, ctx)})>0`;
    case 'set_has_element':
      return `isnotnull(mvfind(${splValue(e.array, ctx)}, "^\\\\Q" . ${splValue(e.value, ctx)} . "\\\\E$"))`;
    case 'lit':
      if (typeof e.value === 'boolean') return e.value ? '1==1' : '1==0';
      break;
    case 'iff':
      return `(${splCondition(e.cond, ctx)} AND ${splCondition(e.then, ctx)}) OR (NOT (${splCondition(e.cond, ctx)}) AND ${splCondition(e.else, ctx)})`;
    case 'case': {
      // The first true branch decides: each branch holds when no earlier one did.
      const parts = e.cases.map((c, i) => `(${[...e.cases.slice(0, i).map((p) => `NOT (${splCondition(p.when, ctx)})`), splCondition(c.when, ctx), splCondition(c.then, ctx)].join(' AND ')})`);
      const otherwise = `(${[...e.cases.map((p) => `NOT (${splCondition(p.when, ctx)})`), splCondition(e.else, ctx)].join(' AND ')})`;
      return `(${[...parts, otherwise].join(' OR ')})`;
    }
    default:
      break;
  }
  // A stored boolean (1/0) or a value used as a condition.
  return `${splValue(e, ctx)}==1`;
}

function compare(op: string, left: Expr, right: Expr, ctx: SplContext): string {
  if (kindOf(left, ctx) === 'bool' || kindOf(right, ctx) === 'bool') {
    const l = `if(${splCondition(left, ctx)}, 1, 0)`;
    const r = `if(${splCondition(right, ctx)}, 1, 0)`;
    return `${l}${op === '!=' || op === '!~' ? '!=' : '=='}${r}`;
  }
  const l = splValue(left, ctx);
  const r = splValue(right, ctx);
  if (op === '=~') return `lower(${l})==lower(${r})`;
  if (op === '!~') return `lower(${l})!=lower(${r})`;
  return `${l}${op}${r}`;
}

function inList(op: string, value: Expr, list: Expr, ctx: SplContext): string {
  const values = listValues(list, ctx);
  const negated = op.startsWith('!');
  const insensitive = op.endsWith('~');
  if (!values.length) return negated ? '1==1' : '1==0';
  const v = splValue(value, ctx);
  const items = values.map((x) => literal(insensitive && typeof x === 'string' ? x.toLowerCase() : x)).join(', ');
  const test = `${insensitive ? `lower(${v})` : v} IN (${items})`;
  return negated ? `NOT (${test})` : `(${test})`;
}

function stringOp(op: string, value: Expr, term: Expr, ctx: SplContext): string {
  const negated = op.startsWith('!');
  const kind = negated ? op.slice(1) : op;
  const v = splValue(value, ctx);
  let test: string;
  const literalTerm = term.op === 'lit' && typeof term.value === 'string' ? term.value : term.op === 'param' && typeof paramValue(ctx.params, term.path) === 'string' ? (paramValue(ctx.params, term.path) as string) : undefined;
  if (literalTerm !== undefined) {
    const t = escapeRegex(literalTerm);
    const pattern = { contains: t, startswith: `^${t}`, endswith: `${t}$`, has: `(^|[^A-Za-z0-9_])${t}($|[^A-Za-z0-9_])` }[kind];
    if (pattern === undefined) throw new Error(`SPL: unknown string operator ${op}`);
    test = `match(${v}, ${splString(`(?i)${pattern}`)})`;
  } else {
    const t = `lower(${splValue(term, ctx)})`;
    const pattern = { contains: `"%" . ${t} . "%"`, startswith: `${t} . "%"`, endswith: `"%" . ${t}`, has: `"%" . ${t} . "%"` }[kind];
    if (pattern === undefined) throw new Error(`SPL: unknown string operator ${op}`);
    if (kind === 'has') ctx.limitations.add('has with a computed term is compared as contains');
    test = `like(lower(${v}), ${pattern})`;
  }
  return negated ? `NOT (${test})` : test;
}

/** A value (string, number, multivalue); booleans become 1/0. */
export function splValue(e: Expr, ctx: SplContext): string {
  switch (e.op) {
    case 'col':
      return /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name) ? e.name : `'${e.name}'`;
    case 'lit':
      return constantValue(e.value);
    case 'param':
      return constantValue(paramValue(ctx.params, e.path));
    case 'coalesce':
      return `coalesce(${[...e.args.map((a) => nonEmptyOrNull(splValue(a, ctx))), '""'].join(', ')})`;
    case 'extract':
    case 'extract_kv':
    case 'extract_all':
    case 'trim':
    case 'trim_end':
    case 'replace_regex':
      return patternValue(e, ctx);
    case 'tolower':
    case 'strcat':
    case 'substring':
    case 'indexof':
    case 'strlen':
      return textValue(e, ctx);
    case 'iff':
      return `if(${splCondition(e.cond, ctx)}, ${splValue(e.then, ctx)}, ${splValue(e.else, ctx)})`;
    case 'case':
      return `case(${e.cases.map((c) => `${splCondition(c.when, ctx)}, ${splValue(c.then, ctx)}`).join(', ')}, 1==1, ${splValue(e.else, ctx)})`;
    case 'array_concat':
    case 'pack_array':
      return `mvappend(${e.args.map((a) => splValue(a, ctx)).join(', ')})`;
    case 'array_length':
      return `coalesce(mvcount(${splValue(e.value, ctx)}), 0)`;
    case 'arith':
      return `(${splValue(e.left, ctx)} ${e.arith} ${splValue(e.right, ctx)})`;
    case 'toreal':
      return `tonumber(${splValue(e.value, ctx)})`;
    case 'decode_utf16le_base64':
      ctx.limitations.add('SPL eval has no base64 decoding: encoded PowerShell commands (-EncodedCommand) are not decoded, so only their plain command line is matched');
      return '""';
    case 'dns_names':
    case 'iso_time':
      throw new Error(`SPL: ${e.op} is output-only and cannot appear in a query step`);
    default:
      // Booleans used as values.
      return `if(${splCondition(e, ctx)}, 1, 0)`;
  }
}

/** A literal or parameter value: a list becomes a multivalue field (an empty one null). */
function constantValue(v: unknown): string {
  if (Array.isArray(v)) return v.length ? `mvappend(${v.map(literal).join(', ')})` : 'null()';
  return literal(v);
}

/** The regex functions, written with SPL's replace/match/split (PCRE). */
function patternValue(e: Extract<Expr, { op: 'extract' | 'extract_kv' | 'extract_all' | 'trim' | 'trim_end' | 'replace_regex' }>, ctx: SplContext): string {
  switch (e.op) {
    case 'extract':
      return splExtract(regex(e.regex, ctx), e.group, splValue(e.value, ctx));
    case 'extract_kv':
      return splExtract(regex(keyValueRegex(e.keys), ctx), 1, splValue(e.value, ctx));
    case 'extract_all': {
      const v = splValue(e.value, ctx);
      const r = regex(e.regex, ctx);
      const joined = `replace(replace(${v}, ${splString(`(?s)(?:.*?(?:${r})|.+)`)}, ${splString(`\\1${ALL_SEPARATOR}`)}), ${splString(`(${ALL_SEPARATOR})+$`)}, "")`;
      return `if(match(${v}, ${splString(r)}), split(${joined}, ${splString(ALL_SEPARATOR)}), null())`;
    }
    case 'trim': {
      const r = regex(e.regex, ctx);
      return `replace(${splValue(e.value, ctx)}, ${splString(`^(?:${r})+|(?:${r})+$`)}, "")`;
    }
    case 'trim_end':
      return `replace(${splValue(e.value, ctx)}, ${splString(`(?:${regex(e.regex, ctx)})+$`)}, "")`;
    case 'replace_regex':
      return `replace(${splValue(e.value, ctx)}, ${splString(regex(e.regex, ctx))}, ${splString(e.rewrite)})`;
  }
}

/** The text functions; substring shifts Kusto's 0-based start to SPL's 1-based one. */
function textValue(e: Extract<Expr, { op: 'tolower' | 'strcat' | 'substring' | 'indexof' | 'strlen' }>, ctx: SplContext): string {
  switch (e.op) {
    case 'tolower':
      return `lower(${splValue(e.value, ctx)})`;
    case 'strcat':
      return `(${e.args.map((a) => `tostring(${splValue(a, ctx)})`).join(' . ')})`;
    case 'substring': {
      const start = `(${splValue(e.start, ctx)})+1`;
      return e.length ? `substr(${splValue(e.value, ctx)}, ${start}, ${splValue(e.length, ctx)})` : `substr(${splValue(e.value, ctx)}, ${start})`;
    }
    case 'indexof': {
      const v = splValue(e.value, ctx);
      const head = `len(mvindex(split(${v}, ${splValue(e.lookup, ctx)}), 0))`;
      return `if(${head}==len(${v}), -1, ${head})`;
    }
    case 'strlen':
      return `len(${splValue(e.value, ctx)})`;
  }
}

/** The value, or null when it is "" (so SPL's coalesce skips it as Kusto's does). */
function nonEmptyOrNull(value: string): string {
  return `if(len(${value})>0, ${value}, null())`;
}
