import type { z } from 'zod';
import type { DetectionMeta } from '../types.js';

/**
 * The detection definition format: one detection as plain data, compiled to every backend
 * (backends/kql.ts → KQL, backends/evaluator.ts → the in-process row evaluator; SPL, AQL and
 * Sigma compilers read the same data). Nothing about a detection's logic lives outside its
 * definition.
 *
 * Shape of a definition (see definitions/*.ts for the three real ones):
 * - `meta`: as DetectionMeta (id, title, tables, schedule, …).
 * - `params`: a zod schema whose `.parse({})` gives the defaults; `tuning.detections[id]`
 *   overrides them. Expressions and regex templates refer to parameters by dotted path
 *   ("tlsPorts", "weights.self_signed").
 * - `branches`: one per source table read (a detection over one table has one branch). Each has
 *   its table, the columns read (with Kusto types), and a pipeline of `where`/`extend` steps.
 *   Several branches are a KQL `union`, each branch projecting `branchColumns` (a column a
 *   table lacks is projected as "" / the branch's own expression: see Branch.project).
 * - `steps`: the pipeline after the union (or after the single branch).
 * - `signals`: `{ id, when, weight, reason }`: the score is the sum of the weights of the
 *   signals whose `when` is true; a row is a hit when its score is > `minScore` (a param path)
 *   and no `allow` expression is true.
 * - outputs: `project` (columns the query returns, raw then computed; the evaluator reads only
 *   these), `key` (expressions whose values identify the hit), `time` (event-time columns),
 *   `indicators`, `entities`, `certificate` (expressions over the projected row).
 *
 * Expressions (`Expr`) are a tagged union; each node is one KQL operator or function with
 * Kusto's semantics (the evaluator implements them: strings are never null, coalesce skips
 * empty strings, == is case-sensitive, =~ / in~ / has / contains / startswith / endswith are
 * not, extract gives "" on no match, extract_all with one group is a flat array, trim takes a
 * regex, indexof gives -1 when absent). Regexes are data in RE2 syntax (`Regex`), possibly with
 * `{{param}}` placeholders expanded from list parameters. Output-only nodes (marked below) are
 * evaluated in process only: no backend query needs them.
 */

/** Kusto scalar types of source columns and expression results. */
export type KustoType = 'string' | 'int' | 'long' | 'real' | 'bool' | 'datetime' | 'dynamic';

/**
 * An RE2 pattern. `pattern` may contain placeholders expanded from parameters before
 * compilation:
 * - `{{name}}`: the list parameter `name` as an alternation of escaped literals `(?:a|b)`;
 * - `{{name:glob}}`: the same with `*` in each value meaning "any run of characters";
 * an empty list expands to a group that matches nothing. `caseInsensitive` adds `(?i)`.
 */
export interface Regex {
  pattern: string;
  caseInsensitive: boolean;
}

/** A literal value: strings, numbers, booleans, or a dynamic array of strings/numbers. */
export type Literal = string | number | boolean | readonly string[] | readonly number[];

export type CompareOp = '==' | '!=' | '=~' | '!~' | '<' | '<=' | '>' | '>=';
export type InOp = 'in' | '!in' | 'in~' | '!in~';
/** Case-insensitive string operators (Kusto's `has` is whole-term; see evaluator). */
export type StringOp = 'has' | 'contains' | 'startswith' | 'endswith' | '!has' | '!contains' | '!startswith' | '!endswith';
export type ArithOp = '+' | '-' | '*' | '/';

export type Expr =
  /** A column of the row (a source column or an earlier `extend`). */
  | { op: 'col'; name: string }
  | { op: 'lit'; value: Literal }
  /** A parameter by dotted path; list parameters become dynamic arrays. */
  | { op: 'param'; path: string }
  | { op: 'and'; args: Expr[] }
  | { op: 'or'; args: Expr[] }
  | { op: 'not'; arg: Expr }
  | { op: 'cmp'; cmp: CompareOp; left: Expr; right: Expr }
  /** `value in (list)`; list is a param or a literal array. */
  | { op: 'in'; in: InOp; value: Expr; list: Expr }
  | { op: 'str'; str: StringOp; value: Expr; term: Expr }
  | { op: 'matches'; value: Expr; regex: Regex }
  | { op: 'coalesce'; args: Expr[] }
  /** extract(regex, group, value): "" when it does not match. */
  | { op: 'extract'; regex: Regex; group: number; value: Expr }
  /**
   * The value of the first `key=value` pair whose key is one of the list parameter `keys`
   * (case-insensitive), pairs separated by `;` or `|` with optional spaces/tabs before the key,
   * the value running to the next `;`, `|` or line break; "" when none. Exactly KQL's
   * extract(@'(?i)(?:^|[;|])[ \t]*(?:k1|k2|…)=([^;|\r\n]*)', 1, value), which is what the
   * backends emit; the evaluator scans instead of running the regex (the hottest expression).
   */
  | { op: 'extract_kv'; keys: string; value: Expr }
  /** extract_all(regex, value): one group → flat array of strings; empty array on no match. */
  | { op: 'extract_all'; regex: Regex; value: Expr }
  /** trim(regex, value) / trim_end(regex, value): the regex removed from both ends / the end. */
  | { op: 'trim'; regex: Regex; value: Expr }
  | { op: 'trim_end'; regex: Regex; value: Expr }
  /** replace_regex(value, regex, rewrite). */
  | { op: 'replace_regex'; value: Expr; regex: Regex; rewrite: string }
  | { op: 'tolower'; value: Expr }
  | { op: 'iff'; cond: Expr; then: Expr; else: Expr }
  | { op: 'case'; cases: Array<{ when: Expr; then: Expr }>; else: Expr }
  | { op: 'isempty'; value: Expr }
  | { op: 'isnotempty'; value: Expr }
  | { op: 'strcat'; args: Expr[] }
  /** substring(value, start[, length]). */
  | { op: 'substring'; value: Expr; start: Expr; length?: Expr }
  /** indexof(value, lookup): -1 when absent. */
  | { op: 'indexof'; value: Expr; lookup: Expr }
  | { op: 'strlen'; value: Expr }
  | { op: 'array_concat'; args: Expr[] }
  | { op: 'pack_array'; args: Expr[] }
  | { op: 'array_length'; value: Expr }
  | { op: 'set_has_element'; array: Expr; value: Expr }
  | { op: 'arith'; arith: ArithOp; left: Expr; right: Expr }
  /** toreal(value) (weights are reals in KQL). */
  | { op: 'toreal'; value: Expr }
  /**
   * An -EncodedCommand payload's text: KQL replace_regex(base64_decode_tostring(v), @'\x00', '')
   * (the bytes read as UTF-8, NULs dropped; "" when not base64 or not UTF-8). Exact for UTF-16LE
   * text of ASCII characters; other characters come out as their two bytes read as UTF-8.
   */
  | { op: 'decode_utf16le_base64'; value: Expr }
  /** Output-only: unique lower-case DNS names (leading "*." removed) among strings/arrays. */
  | { op: 'dns_names'; args: Expr[] }
  /** Output-only: a datetime, epoch seconds or date text as ISO-8601 UTC; "" when unparseable or 0. */
  | { op: 'iso_time'; value: Expr };

/** A pipeline step: KQL `| where expr` or `| extend name = expr`. */
export type Step = { where: Expr } | { extend: string; expr: Expr };

/** One table read; several branches make a union (each a KQL `let Name = Table | … ;`). */
export interface Branch {
  /** The branch's name (KQL let name; also a value a step can assign to tell branches apart). */
  name: string;
  table: string;
  /** Columns the branch reads, with their Kusto types. */
  columns: Record<string, KustoType>;
  /** Event-time column the lookback filter applies to. */
  timeColumn: string;
  /**
   * Steps several branches over the same table share, computed once: KQL `let <name> = <table> |
   * <time> | <steps>;`, which each such branch then reads. Branches sharing a name share the object.
   */
  shared?: { name: string; steps: Step[] };
  steps: Step[];
  /**
   * In process, a row (which does not say its table) belongs to this branch only when this is
   * true (e.g. DeviceFileEvents rows: ActionType startswith "File"). Not emitted to queries,
   * which know their tables. Branches are tried in order; the first whose steps pass wins.
   */
  belongs?: Expr;
  /**
   * With several branches: what the branch projects before the union, name → expression
   * (a `col` of the same name for a plain column). Every branch projects the same names.
   */
  project?: Array<{ name: string; expr: Expr }>;
}

export interface SignalDef {
  id: string;
  when: Expr;
  /** Parameter path of the weight ("weights.self_signed"). */
  weight: string;
  /**
   * The reason text: `{Name}` is replaced by the value of the projected or computed column
   * `Name` (arrays joined by ", "). Evaluated only when the signal fires.
   */
  reason: string;
}

/** Entity fields as expressions over the output row; "" / empty array means absent. */
export type EntityExprs = { [K in 'host' | 'account' | 'sourceIp' | 'destinationIp' | 'destinationHost' | 'destinationPort' | 'processName' | 'commandLine' | 'parentProcessName' | 'registryKey' | 'filePath' | 'fileHashSha1' | 'fileHashSha256' | 'url' | 'domains']?: Expr };
export type CertificateExprs = { [K in 'subject' | 'issuer' | 'subjectCommonName' | 'issuerCommonName' | 'sans' | 'serialNumber' | 'sha1' | 'sha256' | 'notBefore' | 'notAfter' | 'selfSigned' | 'store']?: Expr };

/**
 * Rows that are not hits but belong to a hit's threat: e.g. TLS sessions resumed without a
 * certificate to an endpoint that presented a suspicious one. Only for single-branch definitions.
 * KQL: the branch's rows are a `let`; hits and these rows are both taken from it, these kept only
 * when a hit in the same query shares their `joinOn` values (a leftsemi join), and the union marks
 * each row with the boolean column `marker` (false on hits). In process: Detection.evaluateRelated
 * returns them (signals empty, indicators[marker] true, relatedTo = the joinOn values); attributing
 * them to a threat seen earlier (a lookback kept in state) is the caller's job.
 */
export interface RelatedRows {
  marker: string;
  /** Steps after the branch's own steps; their wheres select the related rows. */
  steps: Step[];
  joinOn: string[];
  key: Expr[];
  indicators: Record<string, Expr>;
  entities: EntityExprs;
}

export interface DetectionDefinition<P extends Record<string, unknown> = Record<string, unknown>> {
  meta: DetectionMeta;
  params: z.ZodType<P, Record<string, unknown>>;
  /** Parameter path of the lookback duration. */
  lookback: string;
  /** Parameter path of the threshold: a hit needs score > minScore. */
  minScore: string;
  branches: Branch[];
  /** Steps after the union (or after the only branch). */
  steps: Step[];
  signals: SignalDef[];
  /** Name of the score column in the query output (e.g. CertRiskScore). */
  scoreColumn: string;
  /** A row is dropped when any of these is true (applied after the threshold). */
  allow: Expr[];
  /** Output columns, in order: raw columns then computed ones. The evaluator reads only raw ones. */
  project: string[];
  /** Sort of the query output (KQL `sort by`). */
  sort: Array<{ column: string; order: 'asc' | 'desc' }>;
  /** Event time: the first parseable of these columns. */
  time: string[];
  /** Values that identify the hit (hashed with the id and the event time into Evaluation.key). */
  key: Expr[];
  /** Indicators of the hit: name → expression; "" becomes null. */
  indicators: Record<string, Expr>;
  entities: EntityExprs;
  /** Certificate fields; absent when `certificateWhen` is false or no field has a value. */
  certificate?: CertificateExprs;
  certificateWhen?: Expr;
  related?: RelatedRows;
  /** Environment variable that overrides the timer schedule. */
  scheduleSetting: string;
}
