import { parseDuration } from '../../duration.js';
import type { Tuning } from '../../scoring/tuning.js';
import { escapeRegex, globToRegex } from '../../kql/regex.js';
import { numberParam } from '../definition/params.js';
import type { DetectionDefinition } from '../definition/types.js';
import { detectionParams } from '../index.js';
import type { Detection } from '../types.js';

/**
 * What the AQL and Sigma backends read from one detection under one tuning document: its
 * parameters in force (ports, vendor keys, lists, allowlists), the definition's signals with
 * their weights, its threshold, and the level thresholds. Each backend translates the signals it knows; a signal a
 * backend has no translation for is an error (a new signal in a definition must reach every
 * backend, so it fails the export tests instead of silently scoring less).
 */
export interface DetectionPlan<P = Record<string, unknown>> {
  detection: Detection;
  params: P;
  /** Signal id → weight, in the definition's order. */
  weights: Array<{ id: string; weight: number }>;
  minScore: number;
  levels: { low: number; medium: number; high: number };
}

export function detectionPlan<P>(detection: Detection, tuning: Tuning): DetectionPlan<P> {
  const params = detectionParams(detection, tuning);
  const def = (detection as Detection & { definition?: DetectionDefinition }).definition;
  if (!def) throw new Error(`${detection.meta.id}: not built from a definition, so no SIEM backend can compile it`);
  return {
    detection,
    params: params as P,
    weights: def.signals.map((s) => ({ id: s.id, weight: numberParam(params, s.weight) })),
    minScore: numberParam(params, def.minScore),
    levels: tuning.levels,
  };
}

/**
 * The signals a backend translates, in the definition's order, and the ones it has no
 * translation for: those are left out of the score (conservative: fewer, never more, hits) and
 * the backend prints them as not expressed, so the gap is never silent.
 */
export function translatedSignals<T>(plan: DetectionPlan<unknown>, backend: string, translations: Record<string, T>): { signals: Array<{ id: string; weight: number; condition: T }>; untranslated: string[] } {
  const signals: Array<{ id: string; weight: number; condition: T }> = [];
  const untranslated: string[] = [];
  for (const { id, weight } of plan.weights) {
    const condition = translations[id];
    if (condition === undefined) untranslated.push(`${backend} has no translation for signal "${id}" of ${plan.detection.meta.id}; it is not scored here`);
    else signals.push({ id, weight, condition });
  }
  return { signals, untranslated };
}

/** A duration ("15m", "1h", "1d") as a five-field cron that runs once per that interval. */
export function cronEvery(duration: string): string {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new RangeError(`not a duration: ${duration}`);
  const minutes = ms / 60_000;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes < 60 && 60 % minutes === 0) return `*/${minutes} * * * *`;
  const hours = minutes / 60;
  if (Number.isInteger(hours) && hours >= 1 && hours < 24 && 24 % hours === 0) return `0 */${hours} * * *`;
  if (hours === 24) return '0 0 * * *';
  throw new RangeError(`cannot schedule every ${duration} with cron (use a divisor of an hour or a day)`);
}

/** The duration as minutes, for relative times such as -15m@m. */
export function durationMinutes(duration: string): number {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new RangeError(`not a duration: ${duration}`);
  return Math.max(1, Math.round(ms / 60_000));
}

/** T1608.003's placeholder common names: whole-name globs or whole words (PCRE/RE2/Java syntax). */
export function placeholderCnRegex(names: readonly string[], words: readonly string[]): string | undefined {
  const parts: string[] = [];
  if (names.length) parts.push(`^(?:${names.map(globToRegex).join('|')})$`);
  if (words.length) parts.push(`(?:^|[^a-z0-9])(?:${words.map(escapeRegex).join('|')})(?:[^a-z0-9]|$)`);
  return parts.length ? parts.join('|') : undefined;
}

/** The score-to-level mapping shared by every backend (tuning.levels). */
export function levelCases(levels: { low: number; medium: number; high: number }): Array<{ min: number; level: string }> {
  return [
    { min: levels.high, level: 'High' },
    { min: levels.medium, level: 'Medium' },
    { min: levels.low, level: 'Low' },
  ];
}

/**
 * A list parameter a definition may not have (yet): the strings, or undefined when absent. A
 * backend translates a signal that needs it only when it is there; otherwise the signal is
 * reported as untranslated.
 */
export function optionalList(params: unknown, name: string): string[] | undefined {
  const v = (params as Record<string, unknown>)[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}
