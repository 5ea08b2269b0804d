import { z } from 'zod';
import type { Hit, Row } from '../model.js';
import type { Tuning } from '../scoring/tuning.js';
import { DETECTIONS, getDetection, hitFromRow } from './index.js';
import { enrichmentColumns } from './sentinel-rule.js';

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
    for (const column of enrichmentColumns(detection)) if (details[column] !== undefined) row[column] = details[column];
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

/** What a parsed POST /api/enrich request holds (shared/observables.ts). */
export interface ParsedHits {
  hits: Hit[];
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * Rules mode: an incident from certsoar's detection rules carries the rows in its alerts' custom
 * details; those become the detection's own hits (with the incident reference), replacing the
 * bare-entity hits parsed from it. Any other request keeps what was parsed.
 */
export function withAlertHits(body: unknown, parsed: ParsedHits, tuning: Tuning): ParsedHits {
  const alertHits = hitsFromAlertCustomDetails(body);
  if (alertHits.length === 0) return parsed;
  const incident = parsed.hits.find((h) => h.incident)?.incident;
  const hits: Hit[] = [];
  const skipped = [...parsed.skipped];
  for (const a of alertHits) {
    const hit = hitFromRow(getDetection(a.detectionId), a.row, tuning);
    if (hit) hits.push(incident ? { ...hit, key: `${incident.armId ?? ''}|${hit.key}`, incident } : hit);
    else skipped.push({ path: `object.properties.Alerts[${a.alert}]`, reason: `the alert's custom details are not a ${a.detectionId} hit` });
  }
  return { hits, skipped };
}
