import { iff, inCi, lit, reCs, trim } from '../definition/build.js';
import type { Expr } from '../definition/types.js';

/**
 * A logged value as text worth reading: spaces, tabs and line breaks trimmed, and the markers
 * vendors write for "no value" (null, n/a, -, none) made empty. Applied to each candidate before
 * a coalesce, so a blank first candidate never hides a real second one.
 */
export const BLANK_MARKERS = ['', 'null', 'n/a', '-', 'none'];

const WHITESPACE = reCs('[ \\t\\r\\n]+');

export function cleanValue(value: Expr): Expr {
  const trimmed = trim(WHITESPACE, value);
  return iff(inCi(trimmed, lit(BLANK_MARKERS)), lit(''), trimmed);
}
