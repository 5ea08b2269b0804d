import { re, reCs, replaceRegex, trim } from '../definition/build.js';
import type { Expr } from '../definition/types.js';

/**
 * A logged value as text worth reading: spaces, tabs and line breaks trimmed, and the markers
 * vendors write for "no value" (null, n/a, -, none) made empty. Applied to each candidate before
 * a coalesce, so a blank first candidate never hides a real second one.
 */
export const BLANK_MARKERS = ['null', 'n/a', '-', 'none'];

export function cleanValue(value: Expr): Expr {
  return trim(reCs('[ \\t\\r\\n]+'), replaceRegex(value, re(`^[ \\t\\r\\n]*(?:null|n/a|-|none)[ \\t\\r\\n]*$`), ''));
}
