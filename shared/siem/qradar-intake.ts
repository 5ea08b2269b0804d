import type { AxiosInstance } from 'axios';
import { aqlQuery } from '../detections/backends/aql.js';
import { getDetection, hitFromRow } from '../detections/index.js';
import type { Hit } from '../model.js';
import type { ParsedRequest } from '../observables.js';
import type { Tuning } from '../scoring/tuning.js';
import { arielSearch } from './qradar-ariel.js';
import { readOffense } from './qradar-offense.js';
import { rowFromQradarEvent } from './qradar-rows.js';
import { detectionNamedIn } from './splunk-alert.js';

/**
 * A QRadar offense as POST /api/enrich receives it (`{offense_id}`, optionally `detectionId`):
 * the function reads the offense, takes the detection from the certsoar rule named in its
 * description (or the reference), runs that detection's exported AQL over the offense's events
 * (INOFFENSE) and its time span, and judges each event with the detection's own evaluator: the
 * offense path scores with the same signals as a hunt.
 */

/** Events read per offense; an offense holding more is reported as partial in `skipped`. */
export const MAX_OFFENSE_EVENTS = 500;

export interface QradarIntake {
  hitsForOffense(ref: { offense_id: number; detectionId?: string | undefined }, tuning: Tuning, deadlineMs: number): Promise<ParsedRequest>;
}

export function qradarIntake(http: AxiosInstance): QradarIntake {
  return {
    async hitsForOffense(ref, tuning, deadlineMs) {
      const started = Date.now();
      const offense = await readOffense(http, ref.offense_id, deadlineMs);
      const detection = getDetection(ref.detectionId ?? detectionNamedIn(offense.description, 'offense_id', 'name the detection in the QRadar rule (as the AQL export does) or pass detectionId'));
      // The offense's span, widened to whole minutes on both sides (START/STOP are minute-grained).
      const slice = { start: new Date(offense.start_time - 60_000), end: new Date((offense.last_updated_time ?? Date.now()) + 60_000) };
      const events = await arielSearch(http, {
        aql: aqlQuery(detection, tuning, slice, offense.id).query,
        deadlineMs: Math.max(1_000, deadlineMs - (Date.now() - started)),
        maxRows: Number.MAX_SAFE_INTEGER,
        pageSize: MAX_OFFENSE_EVENTS,
        waitSeconds: 10,
        pollIntervalMs: 500,
      });
      const hits = new Map<string, Hit>();
      const skipped: ParsedRequest['skipped'] = [];
      for (const [i, event] of events.slice(0, MAX_OFFENSE_EVENTS).entries()) {
        const hit = hitFromRow(detection, rowFromQradarEvent(detection.meta.id, event), tuning);
        if (!hit) {
          skipped.push({ path: `offense_id.events[${i}]`, reason: `the event is not a ${detection.meta.id} hit` });
          continue;
        }
        hit.incident = { siem: { kind: 'qradar', offenseId: offense.id }, title: offense.description.trim().slice(0, 200) };
        hits.set(hit.key, hit);
      }
      if (events.length > MAX_OFFENSE_EVENTS) skipped.push({ path: 'offense_id', reason: `the offense holds ${events.length} events; the first ${MAX_OFFENSE_EVENTS} were judged` });
      return { hits: [...hits.values()], skipped };
    },
  };
}
