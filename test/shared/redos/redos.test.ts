import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DETECTIONS } from '../../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { T1587_003_SCENARIOS } from '../detections/definitions/t1587-003.scenarios.js';
import { T1588_004_SCENARIOS } from '../detections/definitions/t1588-004.scenarios.js';
import { T1608_003_SCENARIOS } from '../detections/definitions/t1608-003.scenarios.js';

/**
 * Every pattern the detections and the suppressions run over adversary text must take linear
 * time. Generic over DETECTIONS (the twin's evaluate() over a row whose projected columns all hold
 * 1 MB of adversarial text) and over the tuning's globs: the inputs are near-misses built from
 * each pattern's own literal words, repeated ("FortinetSSL" × N against *Fortinet*SSL*Inspection*),
 * which is what makes a backtracking matcher go superlinear. Each case runs in a worker thread
 * and gets CASE_LIMIT_MS: not a performance test (a linear matcher takes milliseconds to a second
 * or two for 1 MB through every pattern of a twin with re2js, a backtracking one minutes), so the
 * bound is generous and a case past it is stopped and named.
 */
const BYTES = Number(process.env.REDOS_BYTES ?? 1_048_576);
const CASE_LIMIT_MS = 10_000;
const WORKER = new URL('./redos-worker-boot.mjs', import.meta.url);

/** Literal word runs of a pattern, in order ("*Fortinet*SSL*Inspection*" → Fortinet, SSL, Inspection). */
function words(pattern: string): string[] {
  return pattern.match(/[A-Za-z0-9][A-Za-z0-9._=:-]*/g) ?? [];
}

/**
 * Near-miss units: the first word, and every word but the last, glued and spaced. Repeated, they
 * make a backtracking matcher try every split (the last word never comes); a linear one reads once.
 */
function nearMisses(pattern: string): string[] {
  const w = words(pattern).slice(0, 6);
  const prefixes = [w.slice(0, 1), w.slice(0, Math.max(1, w.length - 1))];
  return prefixes.flatMap((p) => [p.join(''), `${p.join(' ')} `]);
}

/** String literals of a KQL query and of a JSON document (the detection's default parameters). */
function literals(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1] ?? m[2] ?? '').filter((s) => /[A-Za-z]{2}/.test(s));
}

function detectionUnits(detection: (typeof DETECTIONS)[number]): string[] {
  const params = detection.paramsSchema.parse({});
  // Pattern-like literals only (regex or glob syntax); plain name lists are matched by equality.
  const sources = [...literals(detection.buildQuery(params)), ...literals(JSON.stringify(params))].filter((l) => /[*|(\\[]/.test(l));
  const generic = ['a', ' ', '=', '\\', 'CN=', '-', '.', '"', ',CN=a'];
  return [...new Set([...generic, ...sources.flatMap(nearMisses)])];
}

const SCENARIOS: Record<string, Array<{ row: Record<string, unknown>; expect: unknown }>> = {
  'T1608.003': T1608_003_SCENARIOS,
  'T1588.004': T1588_004_SCENARIOS,
  'T1587.003': T1587_003_SCENARIOS,
};

/** Up to 4 reported scenario rows of different shapes, and their free-text columns (where adversary text sits). */
function detectionCases(detection: (typeof DETECTIONS)[number]) {
  const shape = (row: Record<string, unknown>) => ['DeviceVendor', 'ActionType', 'FileName', 'DeviceEventClassID'].map((c) => String(row[c] ?? '')).join('|');
  const bases: Array<Record<string, unknown>> = [];
  const shapes = new Set<string>();
  for (const s of SCENARIOS[detection.meta.id] ?? []) {
    if (s.expect === null || shapes.has(shape(s.row)) || bases.length >= 4) continue;
    shapes.add(shape(s.row));
    bases.push(s.row);
  }
  const units = detectionUnits(detection);
  const cases: Array<[number, string, string]> = [];
  // Each free-text column once, in the first base row that has it (the cases multiply quickly).
  const covered = new Set<string>();
  bases.forEach((row, b) => {
    const textColumns = detection.projectedColumns.filter((c) => !covered.has(c) && typeof row[c] === 'string' && (row[c] as string).length >= 12 && c !== 'TimeGenerated');
    for (const c of textColumns) {
      covered.add(c);
      for (const u of units) cases.push([b, c, u]);
    }
  });
  return { bases, cases };
}

/** Globs a user's tuning may hold: issue 13's reproducers, as an organisation would write them. */
const USER_GLOBS = ['*Fortinet*SSL*Inspection*', '*Palo Alto*Decrypt*', '*Symantec*Proxy*', '*,DC=*', 'dev-*', '*-dev.*'];

/** The default tuning's suppression globs (not the @organisation list references, not IP ranges) and USER_GLOBS. */
function tuningGlobs(): Array<[string, string]> {
  const globs = new Set<string>(USER_GLOBS);
  for (const rule of DEFAULT_TUNING.suppressions) {
    for (const [field, patterns] of Object.entries(rule.when)) {
      if (field === 'sourceIp' || field === 'destinationIp' || !Array.isArray(patterns)) continue;
      for (const p of patterns) if (typeof p === 'string' && !p.startsWith('@')) globs.add(p);
    }
  }
  return [...globs].flatMap((g) => [...new Set([...nearMisses(g), 'a', ' '])].map((u) => [g, u] as [string, string]));
}

/** Runs the cases; answers the ones that passed CASE_LIMIT_MS (the worker is stopped and restarted after each). */
async function slowCases(job: Record<string, unknown>, count: number, label: (i: number) => string): Promise<string[]> {
  const slow: string[] = [];
  let from = 0;
  while (from < count) {
    from = await new Promise<number>((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: { ...job, from, bytes: BYTES }});
      let current = from;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          slow.push(`${label(current)} (stopped after ${CASE_LIMIT_MS} ms)`);
          void worker.terminate().then(() => resolve(current + 1));
        }, CASE_LIMIT_MS);
      };
      worker.on('message', (m: { type: string; i: number; ms: number }) => {
        if (m.type === 'start') {
          current = m.i;
          arm();
        } else if (m.type === 'done') {
          clearTimeout(timer);
          if (m.ms > CASE_LIMIT_MS) slow.push(`${label(m.i)} (${Math.round(m.ms)} ms)`);
        } else if (m.type === 'end') {
          clearTimeout(timer);
          void worker.terminate().then(() => resolve(count));
        }
      });
      worker.on('error', reject);
    });
  }
  return slow;
}

const show = (unit: string) => JSON.stringify(unit.length > 30 ? `${unit.slice(0, 30)}…` : unit);

describe('ReDoS: patterns over adversary text run in linear time (1 MB near-misses, worker per case batch)', () => {
  it.each(DETECTIONS.map((d) => [d.meta.id, d] as const))('detection %s: every projected column 1 MB of each near-miss', async (id, detection) => {
    const { bases, cases } = detectionCases(detection);
    expect(cases.length).toBeGreaterThan(0);
    const slow = await slowCases({ kind: 'detection', id, bases, cases }, cases.length, (i) => `${id}: ${cases[i]![1]} + ${show(cases[i]![2])} × ${BYTES} bytes`);
    expect(slow).toEqual([]);
  }, 600_000);

  it('tuning suppression globs: each glob against 1 MB of its own near-misses', async () => {
    const globs = tuningGlobs();
    const slow = await slowCases({ kind: 'glob', globs }, globs.length, (i) => `glob ${globs[i]![0]}: ${show(globs[i]![1])} × ${BYTES} bytes`);
    expect(slow).toEqual([]);
  }, 600_000);
});
