import type { Detection } from '../detections/types.js';
import type { Hit, Row } from '../model.js';

/**
 * A row that is not a hit but may belong to one's threat (T1608.003: a TLS session without a
 * certificate, marked SessionWithoutCertificate by the definition's related rows), as a hit
 * without signals, for the threat grouping to attribute to its endpoint's threat or drop.
 */
export function relatedHit(detection: Detection, row: Row, params: Record<string, unknown>): Hit | null {
  const e = detection.evaluateRelated?.(row, params);
  if (!e) return null;
  const hit: Hit = { detectionId: detection.meta.id, key: e.key, time: e.time, row, signals: e.signals, indicators: e.indicators, entities: e.entities };
  if (e.certificate) hit.certificate = e.certificate;
  return hit;
}
