import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** Parses "90s", "15m", "24h", "7d" into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A KQL timespan literal for a number of milliseconds, e.g. 86400000 → "1d". */
export function toKqlTimespan(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** zod type for a duration string; the parsed value is milliseconds. */
export const durationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration like 90s, 15m, 24h or 7d' })
  .transform((s) => parseDuration(s) as number);
