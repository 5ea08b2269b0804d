import { parentPort, workerData } from 'node:worker_threads';
import { DETECTIONS } from '../../../shared/detections/index.js';
import { compileGlob } from '../../../shared/scoring/glob.js';

/**
 * Runs one side of the ReDoS test in a worker thread, so a backtracking pattern can be stopped
 * (the test terminates the worker) instead of blocking the test process for minutes.
 * workerData: { kind: 'detection', id, units, from, bytes } or { kind: 'glob', globs: [glob, unit][], from, bytes }.
 */
interface Job {
  kind: 'detection' | 'glob';
  id?: string;
  /** Rows the twin reports (scenario hits), so the row passes its filters and reaches every pattern. */
  bases?: Array<Record<string, unknown>>;
  /** [base index, column, unit]: the column's value followed by 1 MB of the unit. */
  cases?: Array<[number, string, string]>;
  globs?: Array<[string, string]>;
  from: number;
  bytes: number;
}

const job = workerData as Job;
const fill = (unit: string) => unit.repeat(Math.ceil(job.bytes / unit.length)).slice(0, job.bytes);

if (job.kind === 'detection') {
  const detection = DETECTIONS.find((d) => d.meta.id === job.id)!;
  const params = detection.paramsSchema.parse({});
  const cases = job.cases ?? [];
  for (let i = job.from; i < cases.length; i++) {
    const [base, column, unit] = cases[i]!;
    const row = { ...job.bases![base], [column]: `${String(job.bases![base]![column])} ${fill(unit)}` };
    parentPort!.postMessage({ type: 'start', i });
    const started = performance.now();
    try {
      detection.evaluate(row, params);
    } catch {
      // A twin may refuse such a row; only the time matters here.
    }
    parentPort!.postMessage({ type: 'done', i, ms: performance.now() - started });
  }
} else {
  const globs = job.globs ?? [];
  for (let i = job.from; i < globs.length; i++) {
    const [glob, unit] = globs[i]!;
    const input = fill(unit);
    parentPort!.postMessage({ type: 'start', i });
    const started = performance.now();
    compileGlob(glob)(input);
    parentPort!.postMessage({ type: 'done', i, ms: performance.now() - started });
  }
}
parentPort!.postMessage({ type: 'end' });
