import { DNS_NAME_SOURCE } from '../common.js';
import { paramValue, regexSource } from '../definition/params.js';
import { KeyValueScanner } from './key-value-scanner.js';
import type { Expr, Regex } from '../definition/types.js';
import { Re2, decodeUtf16leBase64, hasTerm, isEmptyValue, kustoEquals, toNumber, toText, type Value } from './kusto-values.js';

/**
 * Expression nodes → closures over a row environment (column name → value), with Kusto's
 * semantics. Parameters are constants for one compilation, so parameter lists become Sets and
 * regexes are compiled once here, never per row.
 */

export type Env = Record<string, Value>;
export type Compiled = (env: Env) => Value;

export class ExprCompiler {
  private readonly regexes = new Map<string, Re2>();

  constructor(private readonly params: Record<string, unknown>) {}

  regex(r: Regex): Re2 {
    const source = regexSource(r, this.params);
    let re = this.regexes.get(source);
    if (!re) this.regexes.set(source, (re = new Re2(source)));
    return re;
  }

  /** The value of a constant expression (literal or parameter), or undefined when it is not constant. */
  private constant(e: Expr): Value | undefined {
    if (e.op === 'lit') return e.value as Value;
    if (e.op === 'param') return paramValue(this.params, e.path) as Value;
    return undefined;
  }

  compile(e: Expr): Compiled {
    switch (e.op) {
      case 'col': {
        const name = e.name;
        return (env) => env[name] ?? null;
      }
      case 'lit':
      case 'param': {
        const v = this.constant(e) as Value;
        return () => v;
      }
      case 'and':
      case 'or':
      case 'not':
      case 'coalesce':
      case 'iff':
      case 'case':
        return this.logical(e);
      case 'cmp':
        return this.comparison(e.cmp, this.compile(e.left), this.compile(e.right));
      case 'in':
        return this.membership(e);
      case 'str':
        return this.stringOp(e.str, this.compile(e.value), this.compile(e.term));
      case 'arith':
        return this.arithmetic(e.arith, this.compile(e.left), this.compile(e.right));
      case 'matches':
      case 'extract':
      case 'extract_kv':
      case 'extract_all':
      case 'trim':
      case 'trim_end':
      case 'replace_regex':
        return this.pattern(e);
      case 'tolower':
      case 'isempty':
      case 'isnotempty':
      case 'strcat':
      case 'substring':
      case 'indexof':
      case 'strlen':
      case 'toreal':
      case 'decode_utf16le_base64':
      case 'iso_time':
        return this.scalar(e);
      case 'array_concat':
      case 'pack_array':
      case 'array_length':
      case 'set_has_element':
      case 'dns_names':
        return this.array(e);
    }
  }

  /** Boolean connectives and the branching forms: and, or, not, coalesce, iff, case. */
  private logical(e: Extract<Expr, { op: 'and' | 'or' | 'not' | 'coalesce' | 'iff' | 'case' }>): Compiled {
    switch (e.op) {
      case 'and': {
        const args = e.args.map((a) => this.compile(a));
        return (env) => {
          for (let i = 0; i < args.length; i++) if ((args[i] as Compiled)(env) !== true) return false;
          return true;
        };
      }
      case 'or': {
        const args = e.args.map((a) => this.compile(a));
        return (env) => {
          for (let i = 0; i < args.length; i++) if ((args[i] as Compiled)(env) === true) return true;
          return false;
        };
      }
      case 'not': {
        const a = this.compile(e.arg);
        return (env) => {
          const v = a(env);
          return v === null ? null : v !== true;
        };
      }
      case 'coalesce':
        return this.coalesce(e.args.map((a) => this.compile(a)));
      case 'iff': {
        const c = this.compile(e.cond);
        const t = this.compile(e.then);
        const f = this.compile(e.else);
        return (env) => (c(env) === true ? t(env) : f(env));
      }
      case 'case': {
        const cases = e.cases.map((x) => ({ when: this.compile(x.when), then: this.compile(x.then) }));
        const otherwise = this.compile(e.else);
        return (env) => {
          for (const x of cases) if (x.when(env) === true) return x.then(env);
          return otherwise(env);
        };
      }
    }
  }

  private coalesce(args: Compiled[]): Compiled {
    return (env) => {
      for (const a of args) {
        const v = a(env);
        if (!isEmptyValue(v)) return v;
      }
      return args.length ? (args[args.length - 1] as Compiled)(env) : null;
    };
  }

  /** The regex and key-value functions; each regex is compiled (and checked) once, here. */
  private pattern(
    e: Extract<Expr, { op: 'matches' | 'extract' | 'extract_kv' | 'extract_all' | 'trim' | 'trim_end' | 'replace_regex' }>,
  ): Compiled {
    if (e.op === 'extract_kv') {
      const keys = paramValue(this.params, e.keys);
      if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw new Error(`extract_kv keys "${e.keys}" is not a list of strings`);
      const scanner = new KeyValueScanner(keys as string[]);
      const v = this.compile(e.value);
      return (env) => scanner.extract(toText(v(env)));
    }
    const re = this.regex(e.regex);
    if (e.op === 'extract' && e.group > re.groups) throw new Error(`extract group ${e.group} but the regex has ${re.groups}: ${re.source}`);
    if (e.op === 'extract_all' && re.groups < 1) throw new Error(`extract_all needs a capturing group: ${re.source}`);
    const v = this.compile(e.value);
    switch (e.op) {
      case 'matches':
        return (env) => re.test(toText(v(env)));
      case 'extract': {
        const group = e.group;
        return (env) => re.extract(toText(v(env)), group);
      }
      case 'extract_all':
        return (env) => re.extractAll(toText(v(env)));
      case 'trim':
        return (env) => re.trim(toText(v(env)));
      case 'trim_end':
        return (env) => re.trimEnd(toText(v(env)));
      case 'replace_regex': {
        const rewrite = e.rewrite;
        return (env) => re.replace(toText(v(env)), rewrite);
      }
    }
  }

  /** Functions of one row value to one scalar: text, emptiness, numbers, times. */
  private scalar(
    e: Extract<
      Expr,
      { op: 'tolower' | 'isempty' | 'isnotempty' | 'strcat' | 'substring' | 'indexof' | 'strlen' | 'toreal' | 'decode_utf16le_base64' | 'iso_time' }
    >,
  ): Compiled {
    switch (e.op) {
      case 'strcat':
        return this.strcat(e.args.map((a) => this.compile(a)));
      case 'substring':
        return this.substring(e);
      case 'indexof': {
        const v = this.compile(e.value);
        const l = this.compile(e.lookup);
        return (env) => toText(v(env)).indexOf(toText(l(env)));
      }
    }
    const v = this.compile(e.value);
    switch (e.op) {
      case 'tolower':
        return (env) => toText(v(env)).toLowerCase();
      case 'isempty':
        return (env) => isEmptyValue(v(env));
      case 'isnotempty':
        return (env) => !isEmptyValue(v(env));
      case 'strlen':
        return (env) => toText(v(env)).length;
      case 'toreal':
        return (env) => toNumber(v(env));
      case 'decode_utf16le_base64':
        return (env) => decodeUtf16leBase64(toText(v(env)));
      case 'iso_time':
        return (env) => isoTime(toText(v(env)).trim());
    }
  }

  private strcat(args: Compiled[]): Compiled {
    return (env) => {
      let out = '';
      for (let i = 0; i < args.length; i++) out += toText((args[i] as Compiled)(env));
      return out;
    };
  }

  /** The dynamic-array functions: array_concat, pack_array, array_length, set_has_element, dns_names. */
  private array(e: Extract<Expr, { op: 'array_concat' | 'pack_array' | 'array_length' | 'set_has_element' | 'dns_names' }>): Compiled {
    switch (e.op) {
      case 'array_concat':
        return this.arrayConcat(e.args.map((a) => this.compile(a)));
      case 'pack_array': {
        const args = e.args.map((a) => this.compile(a));
        return (env) => args.map((a) => a(env));
      }
      case 'array_length': {
        const v = this.compile(e.value);
        return (env) => {
          const a = v(env);
          return Array.isArray(a) ? a.length : null;
        };
      }
      case 'set_has_element': {
        const arr = this.compile(e.array);
        const v = this.compile(e.value);
        return (env) => {
          const a = arr(env);
          const x = v(env);
          return Array.isArray(a) && a.some((y) => kustoEquals(y, x) === true);
        };
      }
      case 'dns_names': {
        const args = e.args.map((a) => this.compile(a));
        return (env) => dnsNamesOf(args.map((a) => a(env)));
      }
    }
  }

  private arrayConcat(args: Compiled[]): Compiled {
    return (env) => {
      const out: Value[] = [];
      for (const a of args) {
        const v = a(env);
        if (Array.isArray(v)) out.push(...v);
      }
      return out;
    };
  }

  private comparison(op: string, l: Compiled, r: Compiled): Compiled {
    switch (op) {
      case '==':
        return (env) => kustoEquals(l(env), r(env));
      case '!=':
        return (env) => {
          const eq = kustoEquals(l(env), r(env));
          return eq === null ? null : !eq;
        };
      case '=~':
        return (env) => toText(l(env)).toLowerCase() === toText(r(env)).toLowerCase();
      case '!~':
        return (env) => toText(l(env)).toLowerCase() !== toText(r(env)).toLowerCase();
      default:
        return (env) => {
          const a = toNumber(l(env));
          const b = toNumber(r(env));
          if (a === null || b === null) return null;
          return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
        };
    }
  }

  private membership(e: Extract<Expr, { op: 'in' }>): Compiled {
    const v = this.compile(e.value);
    const listValue = this.constant(e.list);
    if (!Array.isArray(listValue)) throw new Error(`the list of an "${e.in}" must be a literal array or a list parameter`);
    const negate = e.in.startsWith('!');
    if (e.in.endsWith('~')) {
      const set = new Set(listValue.map((x) => toText(x).toLowerCase()));
      return (env) => set.has(toText(v(env)).toLowerCase()) !== negate;
    }
    const numeric = listValue.every((x) => typeof x === 'number');
    if (numeric) {
      const set = new Set(listValue as number[]);
      return (env) => {
        const n = toNumber(v(env));
        if (n === null) return negate ? true : false;
        return set.has(n) !== negate;
      };
    }
    const set = new Set(listValue.map((x) => toText(x)));
    return (env) => set.has(toText(v(env))) !== negate;
  }

  private stringOp(op: string, value: Compiled, term: Compiled): Compiled {
    const negate = op.startsWith('!');
    const base = negate ? op.slice(1) : op;
    const test =
      base === 'has'
        ? (v: string, t: string) => hasTerm(v, t)
        : base === 'contains'
          ? (v: string, t: string) => v.toLowerCase().includes(t.toLowerCase())
          : base === 'startswith'
            ? (v: string, t: string) => v.toLowerCase().startsWith(t.toLowerCase())
            : (v: string, t: string) => v.toLowerCase().endsWith(t.toLowerCase());
    return (env) => test(toText(value(env)), toText(term(env))) !== negate;
  }

  private substring(e: Extract<Expr, { op: 'substring' }>): Compiled {
    const v = this.compile(e.value);
    const s = this.compile(e.start);
    const len = e.length ? this.compile(e.length) : undefined;
    return (env) => {
      const text = toText(v(env));
      const start = Math.max(0, toNumber(s(env)) ?? 0);
      if (!len) return text.slice(start);
      const n = Math.max(0, toNumber(len(env)) ?? 0);
      return text.slice(start, start + n);
    };
  }

  private arithmetic(op: string, l: Compiled, r: Compiled): Compiled {
    return (env) => {
      const a = toNumber(l(env));
      const b = toNumber(r(env));
      if (a === null || b === null) return null;
      if (op === '+') return a + b;
      if (op === '-') return a - b;
      if (op === '*') return a * b;
      return b === 0 ? null : a / b;
    };
  }
}

const DNS_NAME = new Re2(`(?i)${DNS_NAME_SOURCE}`);

function dnsNamesOf(values: Value[]): string[] {
  const out = new Set<string>();
  const visit = (v: Value): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'string' && v !== '') {
      const lower = v.toLowerCase();
      const name = lower.startsWith('*.') ? lower.slice(2) : lower;
      if (DNS_NAME.test(name)) out.add(name);
    }
  };
  values.forEach(visit);
  return [...out];
}

/** A certificate time: epoch seconds or date text → ISO-8601; "" when absent, 0 or unparseable. */
function isoTime(value: string): string {
  if (!value || value === '0') return '';
  let numeric = value.length > 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || c === 46)) numeric = false;
  }
  const d = numeric ? new Date(Number(value) * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
