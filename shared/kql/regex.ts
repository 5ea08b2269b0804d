/**
 * Building RE2 regex sources from literal text (detection definitions expand their list
 * parameters with these; see shared/detections/definition/params.ts).
 */

/** Escapes a literal string for use inside a regex. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A case-insensitive glob (`*` = any run of characters) as a regex fragment, unanchored. */
export function globToRegex(glob: string): string {
  return glob.split('*').map(escapeRegex).join('.*');
}
