import { z } from 'zod';
import { DETECTIONS } from '../detections/index.js';
import { ValidationError, problemsFromZod } from '../errors.js';
import type { Row, SiemAlertRef } from '../model.js';

/**
 * The payload of Splunk's webhook alert action (Splunk docs, "Use a webhook alert action"):
 * `{result, sid, results_link, search_name, owner, app}`, `result` being the first result row of
 * the triggering search. The saved searches of the exported Splunk app are named after their
 * detection ("certsoar T1608.003 …"), so the name identifies the detection; under Splunk ES the
 * notable event id (`event_id`) travels in the result and lets the write-back update the notable.
 */
export const splunkAlertSchema = z
  .object({
    sid: z.string().min(1),
    search_name: z.string().min(1),
    results_link: z.string().optional(),
    owner: z.string().optional(),
    app: z.string().optional(),
    result: z.record(z.string(), z.unknown()),
  })
  .loose();

export function isSplunkAlert(body: Record<string, unknown>): boolean {
  return 'search_name' in body && 'sid' in body;
}

const TECHNIQUE = /\bT\d{4}\.\d{3}\b/g;

/** The detection a saved-search name names: exactly one certsoar detection id must appear in it. */
export function detectionForSearchName(name: string): string {
  return detectionNamedIn(name, 'search_name', 'use the saved searches of the exported Splunk app');
}

/** The one certsoar detection id a SIEM's rule or search name carries; a 400 naming `path` otherwise. */
export function detectionNamedIn(name: string, path: string, hint: string): string {
  const named = [...new Set(name.toUpperCase().match(TECHNIQUE) ?? [])].filter((id) => DETECTIONS.some((d) => d.meta.id === id));
  if (named.length !== 1) {
    throw new ValidationError('no certsoar detection named', [
      { path, message: `"${name.slice(0, 200)}" names ${named.length === 0 ? 'no' : 'more than one'} certsoar detection (${DETECTIONS.map((d) => d.meta.id).join(', ')}); ${hint}` },
    ]);
  }
  return named[0] as string;
}

export function fromSplunkAlert(body: unknown): { detectionId: string; row: Row; origin: SiemAlertRef } {
  const parsed = splunkAlertSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid Splunk alert payload', problemsFromZod(parsed.error.issues));
  const alert = parsed.data;
  const eventId = typeof alert.result.event_id === 'string' && alert.result.event_id !== '' ? alert.result.event_id : undefined;
  return {
    detectionId: detectionForSearchName(alert.search_name),
    row: alert.result,
    origin: {
      kind: 'splunk',
      sid: alert.sid,
      searchName: alert.search_name,
      ...(alert.results_link ? { resultsLink: alert.results_link } : {}),
      ...(eventId ? { notableEventId: eventId } : {}),
    },
  };
}
