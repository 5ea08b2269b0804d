import { kqlInt, kqlIntList, kqlReal, kqlString, kqlStringList } from '../../kql/literals.js';
import { timeFilter } from '../common.js';
import { keyValueRegex, numberParam, paramValue, regexSource } from '../definition/params.js';
import type { Branch, DetectionDefinition, Expr, Literal, Step } from '../definition/types.js';
import type { QueryWindow, RuleWindow } from '../types.js';

/**
 * A definition and its parameters → KQL. Without a window: the analytics-rule form that looks
 * back the `lookback` parameter from now; with one: the hunt form over rows ingested in it.
 * List parameters become `let` statements named after the parameter (tlsPorts → TlsPorts);
 * scalars and regexes are inlined as literals, so a value can never break out of its literal.
 */

export function compileKql(def: DetectionDefinition, params: Record<string, unknown>, window?: QueryWindow | RuleWindow): string {
  const w = new KqlWriter(params);
  const lookback = String(paramValue(params, def.lookback));
  const body = def.related ? relatedQuery(def, w, lookback, window) : plainQuery(def, w, lookback, window);
  if (def.sort.length) body.push(`| sort by ${def.sort.map((s) => `${s.column} ${s.order}`).join(', ')}`);
  return [`// ${def.meta.id} ${def.meta.title}`, ...w.lets(), ...body].join('\n');
}

/** The branches (a union when several), the common steps, the score, the threshold and the allowlists. */
function plainQuery(def: DetectionDefinition, w: KqlWriter, lookback: string, window?: QueryWindow | RuleWindow): string[] {
  const body: string[] = [];
  if (def.branches.length === 1) {
    const b = def.branches[0] as Branch;
    body.push(b.table, timeFilter(lookback, window, b.timeColumn), ...w.steps(b.steps));
  } else {
    const sharedDone = new Set<string>();
    for (const b of def.branches) {
      if (!b.project) throw new Error(`${def.meta.id}: branch ${b.name} of a union needs a projection`);
      if (b.shared && !sharedDone.has(b.shared.name)) {
        sharedDone.add(b.shared.name);
        const lines = [`let ${b.shared.name} = ${b.table}`, timeFilter(lookback, window, b.timeColumn), ...w.steps(b.shared.steps)];
        lines[lines.length - 1] += ';';
        body.push(...lines);
      }
      if (b.shared) body.push(`let ${b.name} = ${b.shared.name}`, ...w.steps(b.steps));
      else body.push(`let ${b.name} = ${b.table}`, timeFilter(lookback, window, b.timeColumn), ...w.steps(b.steps));
      body.push(`| project ${b.project.map((p) => (p.expr.op === 'col' && p.expr.name === p.name ? p.name : `${p.name} = ${w.expr(p.expr)}`)).join(', ')};`);
    }
    body.push(`union ${def.branches.map((b) => b.name).join(', ')}`);
  }
  body.push(...hitSteps(def, w), `| project ${def.project.join(', ')}`);
  return body;
}

function hitSteps(def: DetectionDefinition, w: KqlWriter): string[] {
  const out = w.steps(def.steps);
  const score = def.signals.map((s) => `iff(${w.expr(s.when)}, ${kqlReal(numberParam(w.params, s.weight))}, real(0))`);
  out.push(`| extend ${def.scoreColumn} = ${score.length ? score.join('\n    + ') : 'real(0)'}`);
  out.push(`| where ${def.scoreColumn} > ${kqlReal(numberParam(w.params, def.minScore))}`);
  if (def.allow.length) out.push(`| where not(${def.allow.map((a) => w.expr(a)).join(' or ')})`);
  return out;
}

/**
 * Hits plus the related rows that share a hit's joinOn values in the same rows:
 *   let Rows = <table> | <time> | <branch steps>;
 *   let Hits = Rows | <steps> | <score> | <threshold> | <allow> | extend <marker> = false;
 *   let Related = Rows | <related steps> | join kind=leftsemi (Hits | distinct <joinOn>) on <joinOn> | extend <marker> = true;
 *   union Hits, Related | project …, <marker>
 */
function relatedQuery(def: DetectionDefinition, w: KqlWriter, lookback: string, window?: QueryWindow | RuleWindow): string[] {
  const related = def.related as NonNullable<DetectionDefinition['related']>;
  if (def.branches.length !== 1) throw new Error(`${def.meta.id}: related rows need a single-branch definition`);
  const b = def.branches[0] as Branch;
  const on = related.joinOn.join(', ');
  const rows = [`let ${b.name} = ${b.table}`, timeFilter(lookback, window, b.timeColumn), ...w.steps(b.steps)];
  rows[rows.length - 1] += ';';
  return [
    ...rows,
    `let Hits = ${b.name}`,
    ...hitSteps(def, w),
    `| extend ${related.marker} = false;`,
    `let Related = ${b.name}`,
    ...w.steps(related.steps),
    `| join kind=leftsemi (Hits | distinct ${on}) on ${on}`,
    `| extend ${related.marker} = true;`,
    'union Hits, Related',
    `| project ${[...def.project, related.marker].join(', ')}`,
  ];
}

class KqlWriter {
  private readonly letNames = new Map<string, string>();

  constructor(readonly params: Record<string, unknown>) {}

  /** `let` statements for the list parameters the query refers to. */
  lets(): string[] {
    return [...this.letNames].map(([path, name]) => `let ${name} = ${listLiteral(paramValue(this.params, path) as Literal, path)};`);
  }

  steps(steps: Step[]): string[] {
    return steps.map((s) => ('where' in s ? `| where ${this.expr(s.where)}` : `| extend ${s.extend} = ${this.expr(s.expr)}`));
  }

  private regex(r: Parameters<typeof regexSource>[0]): string {
    return kqlString(regexSource(r, this.params));
  }

  private param(path: string): string {
    const v = paramValue(this.params, path);
    if (Array.isArray(v)) {
      let name = this.letNames.get(path);
      if (!name) {
        name = path.split('.').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
        this.letNames.set(path, name);
      }
      return name;
    }
    return scalarLiteral(v as Literal, path);
  }

  /** Compound expressions are wrapped in parentheses so precedence never depends on context. */
  private sub(e: Expr): string {
    const text = this.expr(e);
    return ['and', 'or', 'cmp', 'in', 'str', 'matches', 'arith'].includes(e.op) ? `(${text})` : text;
  }

  expr(e: Expr): string {
    switch (e.op) {
      case 'col':
        return e.name;
      case 'lit':
        return Array.isArray(e.value) ? listLiteral(e.value, 'literal') : scalarLiteral(e.value as Literal, 'literal');
      case 'param':
        return this.param(e.path);
      case 'and':
        return e.args.map((a) => this.sub(a)).join(' and ');
      case 'or':
        return e.args.map((a) => this.sub(a)).join(' or ');
      case 'not':
        return `not(${this.expr(e.arg)})`;
      case 'cmp':
        return `${this.sub(e.left)} ${e.cmp} ${this.sub(e.right)}`;
      case 'in':
        return `${this.sub(e.value)} ${e.in} (${this.expr(e.list)})`;
      case 'str':
        return `${this.sub(e.value)} ${e.str} ${this.sub(e.term)}`;
      case 'matches':
        return `${this.sub(e.value)} matches regex ${this.regex(e.regex)}`;
      case 'arith':
        return `${this.sub(e.left)} ${e.arith} ${this.sub(e.right)}`;
      case 'extract':
      case 'extract_kv':
      case 'extract_all':
      case 'trim':
      case 'trim_end':
      case 'replace_regex':
        return this.regexCall(e);
      case 'dns_names':
      case 'iso_time':
        throw new Error(`${e.op} is evaluated in process only and cannot appear in a query`);
      default:
        return this.call(e);
    }
  }

  /** The functions that take a regex; the regex is always a verbatim string literal. */
  private regexCall(e: Extract<Expr, { op: 'extract' | 'extract_kv' | 'extract_all' | 'trim' | 'trim_end' | 'replace_regex' }>): string {
    switch (e.op) {
      case 'extract':
        return `extract(${this.regex(e.regex)}, ${e.group}, ${this.expr(e.value)})`;
      case 'extract_kv':
        return `extract(${this.regex(keyValueRegex(e.keys))}, 1, ${this.expr(e.value)})`;
      case 'extract_all':
        // extract_all gives null when nothing matches; the definitions treat that as no names, so
        // array_concat and set_has_element always get an array (as the evaluator does).
        return `coalesce(extract_all(${this.regex(e.regex)}, ${this.expr(e.value)}), dynamic([]))`;
      case 'trim':
        return `trim(${this.regex(e.regex)}, ${this.expr(e.value)})`;
      case 'trim_end':
        return `trim_end(${this.regex(e.regex)}, ${this.expr(e.value)})`;
      case 'replace_regex':
        return `replace_regex(${this.expr(e.value)}, ${this.regex(e.regex)}, ${kqlString(e.rewrite)})`;
    }
  }

  /** The remaining scalar functions, each written as the KQL function of the same name. */
  private call(
    e: Exclude<
      Expr,
      { op: 'col' | 'lit' | 'param' | 'and' | 'or' | 'not' | 'cmp' | 'in' | 'str' | 'matches' | 'arith' | 'extract' | 'extract_kv' | 'extract_all' | 'trim' | 'trim_end' | 'replace_regex' | 'dns_names' | 'iso_time' }
    >,
  ): string {
    const list = (args: Expr[]) => args.map((a) => this.expr(a)).join(', ');
    switch (e.op) {
      case 'coalesce':
      case 'strcat':
      case 'array_concat':
      case 'pack_array':
        return `${e.op}(${list(e.args)})`;
      case 'tolower':
      case 'isempty':
      case 'isnotempty':
      case 'strlen':
      case 'array_length':
      case 'toreal':
        return `${e.op}(${this.expr(e.value)})`;
      case 'iff':
        return `iff(${this.expr(e.cond)}, ${this.expr(e.then)}, ${this.expr(e.else)})`;
      case 'case':
        return `case(${e.cases.map((c) => `${this.expr(c.when)}, ${this.expr(c.then)}`).join(', ')}, ${this.expr(e.else)})`;
      case 'substring':
        return `substring(${this.expr(e.value)}, ${this.expr(e.start)}${e.length ? `, ${this.expr(e.length)}` : ''})`;
      case 'indexof':
        return `indexof(${this.expr(e.value)}, ${this.expr(e.lookup)})`;
      case 'set_has_element':
        return `set_has_element(${this.expr(e.array)}, ${this.expr(e.value)})`;
      case 'decode_utf16le_base64':
        // base64_decode_tostring reads the bytes as UTF-8: UTF-16LE text of ASCII characters comes
        // back with a NUL after each character; dropping the NULs leaves the text.
        return `replace_regex(base64_decode_tostring(${this.expr(e.value)}), @'\\x00', '')`;
    }
  }
}

function scalarLiteral(v: Literal, where: string): string {
  if (typeof v === 'string') return kqlString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? kqlInt(v) : kqlReal(v);
  throw new Error(`${where}: a list where a scalar is expected`);
}

function listLiteral(v: Literal, where: string): string {
  if (!Array.isArray(v)) throw new Error(`${where}: a scalar where a list is expected`);
  if (v.every((x) => typeof x === 'number')) return kqlIntList(v as number[]);
  if (v.every((x) => typeof x === 'string')) return kqlStringList(v as string[]);
  throw new Error(`${where}: lists hold only strings or only numbers`);
}
