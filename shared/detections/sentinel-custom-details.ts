import { z } from 'zod';
import type { Row } from '../model.js';
import { DETECTIONS } from './index.js';

/**
 * Rules mode: the alerts of an incident raised by certsoar's detection rules carry the row's
 * columns as custom details (shared/detections/sentinel-rule.ts: key = column name, plus
 * CertsoarDetectionId). This turns them back into `{detectionId, row}` hits, so POST /api/enrich
 * scores the incident with the detection's own signals instead of bare entities.
 *
 * Where they are: Sentinel keeps an alert's custom details as JSON under "Custom Details" in the
 * alert's extended properties (SecurityAlert.ExtendedProperties; the incident trigger's
 * object.properties.Alerts[].properties.additionalData), each value an array of strings. Also
 * accepted: a plain `customDetails` object on the alert's properties.
 */

export interface AlertHit {
  detectionId: string;
  row: Row;
  /** Index of the alert in the payload, for error paths. */
  alert: number;
}

const alertSchema = z.looseObject({
  properties: z
    .looseObject({
      additionalData: z.record(z.string(), z.unknown()).optional(),
      customDetails: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

const payloadSchema = z.looseObject({
  object: z.looseObject({
    properties: z.looseObject({
      Alerts: z.array(z.unknown()).optional(),
      alerts: z.array(z.unknown()).optional(),
    }),
  }),
});

/** The hits the incident's alerts describe; empty when none carries certsoar's custom details. */
export function hitsFromAlertCustomDetails(body: unknown): AlertHit[] {
  const payload = payloadSchema.safeParse(body);
  if (!payload.success) return [];
  const alerts = payload.data.object.properties.Alerts ?? payload.data.object.properties.alerts ?? [];
  const out: AlertHit[] = [];
  alerts.forEach((raw, index) => {
    const details = customDetailsOf(raw);
    const detectionId = details?.['CertsoarDetectionId'];
    const detection = DETECTIONS.find((d) => d.meta.id === detectionId);
    if (!details || !detection) return;
    const row: Row = {};
    for (const column of detection.projectedColumns) if (details[column] !== undefined) row[column] = details[column];
    out.push({ detectionId: detection.meta.id, row, alert: index });
  });
  return out;
}

function customDetailsOf(raw: unknown): Record<string, string> | undefined {
  const alert = alertSchema.safeParse(raw);
  if (!alert.success) return undefined;
  const props = alert.data.properties;
  let details: unknown = props?.customDetails ?? props?.additionalData?.['Custom Details'];
  if (typeof details === 'string') {
    try {
      details = JSON.parse(details);
    } catch {
      return undefined;
    }
  }
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
    // Sentinel wraps each value in an array of strings; one row per alert gives one element.
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null && typeof first !== 'object') out[key] = String(first);
  }
  return out;
}
