import { ValidationError, problemsFromZod } from '../errors.js';
import type { Hit, Row } from '../model.js';
import type { Tuning } from '../scoring/tuning.js';
import type { Detection } from './types.js';

/** Every detection certsoar ships, in a fixed order. */
export const DETECTIONS: readonly Detection[] = [];

export function getDetection(id: string): Detection {
  const d = DETECTIONS.find((x) => x.meta.id === id);
  if (!d) {
    throw new ValidationError('unknown detection', [
      { path: 'detectionId', message: `"${id}" is not one of ${DETECTIONS.map((x) => x.meta.id).join(', ')}` },
    ]);
  }
  return d;
}

/** The detection's parameters in force: its defaults overridden by tuning.detections[id]. */
export function detectionParams(detection: Detection, tuning: Tuning): Record<string, unknown> {
  const parsed = detection.paramsSchema.safeParse(tuning.detections[detection.meta.id] ?? {});
  if (!parsed.success) {
    throw new ValidationError('invalid detection parameters', problemsFromZod(parsed.error.issues, `tuning.detections.${detection.meta.id}`));
  }
  return parsed.data;
}

/** Runs the twin over a row; null when the row is not a hit. */
export function hitFromRow(detection: Detection, row: Row, tuning: Tuning): Hit | null {
  const evaluation = detection.evaluate(row, detectionParams(detection, tuning));
  return evaluation ? { detectionId: detection.meta.id, row, ...evaluation } : null;
}
