import { ValidationError, problemsFromZod } from '../errors.js';
import type { Hit, Row } from '../model.js';
import { mergeTuning } from '../scoring/list-edit.js';
import type { Tuning } from '../scoring/tuning.js';
import { t1587003 } from './definitions/t1587-003.js';
import { t1588004 } from './definitions/t1588-004.js';
import { t1608003 } from './definitions/t1608-003.js';
import type { Detection } from './types.js';

/** Every detection certsoar ships, in a fixed order: the one list a new detection is added to. */
export const DETECTIONS: readonly Detection[] = [t1608003, t1588004, t1587003];

export function getDetection(id: string): Detection {
  const d = DETECTIONS.find((x) => x.meta.id === id);
  if (!d) {
    throw new ValidationError('unknown detection', [
      { path: 'detectionId', message: `"${id}" is not one of ${DETECTIONS.map((x) => x.meta.id).join(', ')}` },
    ]);
  }
  return d;
}

/** Parsed parameters per tuning document: a tuning is never changed after it is loaded. */
const paramsCache = new WeakMap<Tuning, Map<string, Record<string, unknown>>>();

/** The detection's parameters in force: its defaults overridden by tuning.detections[id]. */
export function detectionParams(detection: Detection, tuning: Tuning): Record<string, unknown> {
  const perTuning = paramsCache.get(tuning) ?? new Map<string, Record<string, unknown>>();
  paramsCache.set(tuning, perTuning);
  const cached = perTuning.get(detection.meta.id);
  if (cached) return cached;
  // Over the detection's defaults, so `{add, remove}` can edit a default list (shared/scoring/list-edit.ts).
  const parsed = detection.paramsSchema.safeParse(mergeTuning(detection.paramsSchema.parse({}), tuning.detections[detection.meta.id] ?? {}));
  if (!parsed.success) {
    throw new ValidationError('invalid detection parameters', problemsFromZod(parsed.error.issues, `tuning.detections.${detection.meta.id}`));
  }
  perTuning.set(detection.meta.id, parsed.data);
  return parsed.data;
}

/** Runs the detection's evaluator over a row; null when the row is not a hit. */
export function hitFromRow(detection: Detection, row: Row, tuning: Tuning): Hit | null {
  const evaluation = detection.evaluate(row, detectionParams(detection, tuning));
  return evaluation ? { detectionId: detection.meta.id, row, ...evaluation } : null;
}
