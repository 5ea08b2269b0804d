import { UpstreamUnavailableError } from '../errors.js';
import { type CtRecord, toCtRecord } from './crtsh-records.js';

/**
 * Turns a crt.sh answer body into records. Accepts a JSON array, a single object, and objects
 * placed back to back with no separators (the legacy answer). An HTML page (crt.sh's error pages
 * come with status 200), malformed JSON or rows of the wrong shape are upstream failures.
 */
export function parseCrtshBody(body: string): { records: CtRecord[]; rawRows: number } {
  const text = body.replace(/^\uFEFF/, '').trim();
  if (text === '') return { records: [], rawRows: 0 };
  if (looksLikeHtml(text)) throw new UpstreamUnavailableError('crt.sh', `answered an HTML page instead of JSON: ${htmlTitle(text)}`);
  let values: unknown[];
  try {
    values = text.startsWith('[') ? asArray(JSON.parse(text)) : splitConcatenatedJson(text).map((part) => JSON.parse(part) as unknown);
  } catch (err) {
    throw new UpstreamUnavailableError('crt.sh', `answered malformed JSON (${(err as Error).message})`);
  }
  const records: CtRecord[] = [];
  for (const [index, value] of values.entries()) {
    try {
      records.push(toCtRecord(value));
    } catch (err) {
      throw new UpstreamUnavailableError('crt.sh', `row ${index} has an unexpected shape: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  return { records, rawRows: values.length };
}

export function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<\?xml)/i.test(text);
}

function htmlTitle(text: string): string {
  const m = /<title>([^<]{0,120})<\/title>/i.exec(text);
  return m?.[1]?.trim() || 'untitled page';
}

function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  throw new SyntaxError('expected a JSON array');
}

/**
 * Splits `{…}{…}{…}` (optionally separated by whitespace or newlines) into top-level objects by
 * tracking string and nesting state; each part is then parsed by JSON.parse, which reports errors.
 */
export function splitConcatenatedJson(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth < 0) throw new SyntaxError(`unbalanced '${ch}' at ${i}`);
      if (depth === 0) parts.push(text.slice(start, i + 1));
    } else if (depth === 0 && !/\s/.test(ch ?? '')) {
      throw new SyntaxError(`unexpected '${ch}' between objects at ${i}`);
    }
  }
  if (depth !== 0 || inString) throw new SyntaxError('unexpected end of input');
  return parts;
}
