/**
 * JSON.parse errors quote the text around the fault (V8: `Unexpected token 'x', "…" is not valid
 * JSON`). When the text is a secret setting (TUNING_JSON) or an adversary's body, the error must
 * name where, never what: this turns any JSON.parse failure into a line and column.
 */

/** Parses JSON; a syntax error becomes `SyntaxError("syntax error at line L, column C")` with no content. */
export function parseJsonNamingPosition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(jsonSyntaxProblem(err, text));
  }
}

/** "syntax error at line L, column C" (or "unexpected end of input"), never a piece of the text. */
export function jsonSyntaxProblem(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : '';
  if (/end of (JSON )?input/i.test(message)) return 'unexpected end of input';
  const offset = errorOffset(message, text);
  if (offset === undefined) return 'syntax error';
  if (offset >= text.length) return 'unexpected end of input';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `syntax error at line ${line}, column ${column}`;
}

/** The character offset a JSON.parse error points at (0-based), when it can be told; never the text. */
export function jsonSyntaxOffset(err: unknown, text: string): number | undefined {
  return errorOffset(err instanceof Error ? err.message : '', text);
}

function errorOffset(message: string, text: string): number | undefined {
  const at = /at position (\d+)/.exec(message);
  if (at?.[1]) return Math.min(Number(at[1]), text.length);
  // Node 20+: Unexpected token 'x', "…snippet…" is not valid JSON — locate the snippet, then the token in it.
  const quoted = /^Unexpected token '([^])', (?:\.\.\.)?"([^]*)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (!quoted?.[1] || quoted[2] === undefined) return undefined;
  const start = text.indexOf(quoted[2]);
  if (start < 0) return undefined;
  const inSnippet = quoted[2].indexOf(quoted[1]);
  return start + Math.max(0, inSnippet);
}
