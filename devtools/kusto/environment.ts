import type { Node } from './syntax.js';
import { KqlDateTime, KqlError, type KqlTable, type KqlValue } from './values.js';

/** What a name bound by `let` (or a function parameter) stands for. */
export type Binding =
  | { kind: 'value'; value: KqlValue }
  | { kind: 'table'; table: () => KqlTable }
  | { kind: 'function'; declaration: Node; scope: Scope };

/** Lexical scope: let bindings and function parameters, innermost first. */
export class Scope {
  private readonly names = new Map<string, Binding>();
  private readonly parameters = new Set<string>();
  constructor(
    readonly run: RunContext,
    private readonly parent?: Scope,
  ) {}
  bind(name: string, binding: Binding): void {
    this.names.set(name, binding);
  }
  /** A function parameter: unlike a let, it shadows the row's columns inside the body. */
  bindParameter(name: string, value: KqlValue): void {
    this.names.set(name, { kind: 'value', value });
    this.parameters.add(name);
  }
  isParameter(name: string): boolean {
    return this.parameters.has(name) || (!this.names.has(name) && (this.parent?.isParameter(name) ?? false));
  }
  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  child(): Scope {
    return new Scope(this.run, this);
  }
}

/** One execution: the clock, the database tables and caches of row-independent results. */
export interface RunContext {
  now: number;
  tables: Map<string, KqlTable>;
  /** Row-independent tabular results (e.g. the right side of `in`), computed once per run. */
  memo: Map<unknown, unknown>;
}

export function tableFromDatabase(run: RunContext, name: string): KqlTable {
  const table = run.tables.get(name);
  if (!table) throw new KqlError(`table ${name} was not supplied to the evaluator`);
  return table;
}

export function nowOf(run: RunContext): KqlDateTime {
  return new KqlDateTime(run.now);
}
