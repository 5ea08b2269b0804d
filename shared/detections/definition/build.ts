import type { ArithOp, CompareOp, Expr, InOp, Literal, Regex, Step, StringOp } from './types.js';

/**
 * Short constructors for expression nodes, so a definition reads like the query it becomes.
 * They only build data (types.ts); nothing here evaluates anything.
 */

export const col = (name: string): Expr => ({ op: 'col', name });
export const lit = (value: Literal): Expr => ({ op: 'lit', value });
export const param = (path: string): Expr => ({ op: 'param', path });
export const and = (...args: Expr[]): Expr => ({ op: 'and', args });
export const or = (...args: Expr[]): Expr => ({ op: 'or', args });
export const not = (arg: Expr): Expr => ({ op: 'not', arg });
const cmp = (c: CompareOp) => (left: Expr, right: Expr): Expr => ({ op: 'cmp', cmp: c, left, right });
export const eq = cmp('==');
export const ne = cmp('!=');
export const eqi = cmp('=~');
export const nei = cmp('!~');
export const gt = cmp('>');
export const ge = cmp('>=');
export const lt = cmp('<');
export const le = cmp('<=');
const inOp = (o: InOp) => (value: Expr, list: Expr): Expr => ({ op: 'in', in: o, value, list });
export const isIn = inOp('in');
export const notIn = inOp('!in');
export const inCi = inOp('in~');
export const notInCi = inOp('!in~');
const strOp = (o: StringOp) => (value: Expr, term: Expr | string): Expr => ({ op: 'str', str: o, value, term: typeof term === 'string' ? lit(term) : term });
export const has = strOp('has');
export const contains = strOp('contains');
export const startsWith = strOp('startswith');
export const endsWith = strOp('endswith');
/** A case-insensitive RE2 pattern (the usual case). */
export const re = (pattern: string): Regex => ({ pattern, caseInsensitive: true });
/** A case-sensitive RE2 pattern. */
export const reCs = (pattern: string): Regex => ({ pattern, caseInsensitive: false });
export const matches = (value: Expr, regex: Regex): Expr => ({ op: 'matches', value, regex });
export const coalesce = (...args: Expr[]): Expr => ({ op: 'coalesce', args });
export const extract = (regex: Regex, group: number, value: Expr): Expr => ({ op: 'extract', regex, group, value });
export const extractKv = (keys: string, value: Expr): Expr => ({ op: 'extract_kv', keys, value });
export const extractAll = (regex: Regex, value: Expr): Expr => ({ op: 'extract_all', regex, value });
export const trim = (regex: Regex, value: Expr): Expr => ({ op: 'trim', regex, value });
export const trimEnd = (regex: Regex, value: Expr): Expr => ({ op: 'trim_end', regex, value });
export const replaceRegex = (value: Expr, regex: Regex, rewrite: string): Expr => ({ op: 'replace_regex', value, regex, rewrite });
export const tolower = (value: Expr): Expr => ({ op: 'tolower', value });
export const iff = (cond: Expr, then: Expr, otherwise: Expr): Expr => ({ op: 'iff', cond, then, else: otherwise });
export const caseOf = (cases: Array<[Expr, Expr]>, otherwise: Expr): Expr => ({ op: 'case', cases: cases.map(([when, then]) => ({ when, then })), else: otherwise });
export const isEmpty = (value: Expr): Expr => ({ op: 'isempty', value });
export const isNotEmpty = (value: Expr): Expr => ({ op: 'isnotempty', value });
export const strcat = (...args: Expr[]): Expr => ({ op: 'strcat', args });
export const substring = (value: Expr, start: Expr, length?: Expr): Expr => (length ? { op: 'substring', value, start, length } : { op: 'substring', value, start });
export const indexOf = (value: Expr, lookup: Expr): Expr => ({ op: 'indexof', value, lookup });
export const strlen = (value: Expr): Expr => ({ op: 'strlen', value });
export const arrayConcat = (...args: Expr[]): Expr => ({ op: 'array_concat', args });
export const packArray = (...args: Expr[]): Expr => ({ op: 'pack_array', args });
export const arrayLength = (value: Expr): Expr => ({ op: 'array_length', value });
export const setHasElement = (array: Expr, value: Expr): Expr => ({ op: 'set_has_element', array, value });
const arith = (a: ArithOp) => (left: Expr, right: Expr): Expr => ({ op: 'arith', arith: a, left, right });
export const add = arith('+');
export const sub = arith('-');
export const decodeUtf16leBase64 = (value: Expr): Expr => ({ op: 'decode_utf16le_base64', value });
export const dnsNames = (...args: Expr[]): Expr => ({ op: 'dns_names', args });
export const isoTime = (value: Expr): Expr => ({ op: 'iso_time', value });

export const where = (expr: Expr): Step => ({ where: expr });
export const extend = (name: string, expr: Expr): Step => ({ extend: name, expr });

/** An empty dynamic array. */
export const emptyArray: Expr = lit([] as string[]);
