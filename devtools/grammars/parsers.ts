import { readFileSync } from 'node:fs';
import peggy from 'peggy';

/**
 * The grammars kept in this folder, compiled once per process. They are checks for tests and
 * tools (never imported by functions/ or shared/): a generated search, query or condition that
 * does not parse is a bug in its compiler.
 */

export type ParseResult = { ok: true; ast: unknown } | { ok: false; message: string; line: number; column: number };

export interface GrammarParser {
  parse(text: string): ParseResult;
}

function grammar(file: string): GrammarParser {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  const parser = peggy.generate(source, { grammarSource: file, cache: true });
  return {
    parse(text: string): ParseResult {
      try {
        return { ok: true, ast: parser.parse(text) };
      } catch (error) {
        if (error instanceof parser.SyntaxError) {
          return { ok: false, message: error.message, line: error.location.start.line, column: error.location.start.column };
        }
        throw error;
      }
    },
  };
}

let cache: { spl: GrammarParser; aql: GrammarParser; sigmaCondition: GrammarParser } | undefined;

export function grammars(): { spl: GrammarParser; aql: GrammarParser; sigmaCondition: GrammarParser } {
  cache ??= {
    spl: grammar('./spl.peggy'),
    aql: grammar('./aql.peggy'),
    sigmaCondition: grammar('./sigma-condition.peggy'),
  };
  return cache;
}
