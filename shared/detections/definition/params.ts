import { escapeRegex, globToRegex } from '../../kql/regex.js';
import type { Regex } from './types.js';

/** Reading parameters by dotted path and expanding regex templates: shared by every backend. */

export function paramValue(params: Record<string, unknown>, path: string): unknown {
  let value: unknown = params;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !(part in value)) throw new Error(`definition refers to unknown parameter "${path}"`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function numberParam(params: Record<string, unknown>, path: string): number {
  const v = paramValue(params, path);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`parameter "${path}" is not a number`);
  return v;
}

function stringListParam(params: Record<string, unknown>, path: string): string[] {
  const v = paramValue(params, path);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`parameter "${path}" is not a list of strings`);
  return v as string[];
}

/** A group that never matches: what an empty list expands to. */
export const NEVER = '[^\\x00-\\x{10FFFF}]';

const PLACEHOLDER = /\{\{([A-Za-z0-9_.]+)(?::(glob))?\}\}/g;

/**
 * The RE2 source of a regex with its `{{param}}` placeholders expanded, and `(?i)` in front
 * when it is case-insensitive.
 */
export function regexSource(regex: Regex, params: Record<string, unknown>): string {
  const body = regex.pattern.replace(PLACEHOLDER, (_m, path: string, glob: string | undefined) => {
    const values = stringListParam(params, path);
    if (values.length === 0) return NEVER;
    return `(?:${values.map(glob ? globToRegex : escapeRegex).join('|')})`;
  });
  return regex.caseInsensitive ? `(?i)${body}` : body;
}

/** The regex extract_kv stands for, as a template over its key list parameter. */
export function keyValueRegex(keysParam: string): Regex {
  return { pattern: `(?:^|[;|])[ \\t]*{{${keysParam}}}=([^;|\\r\\n]*)`, caseInsensitive: true };
}
