import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { ValidationError, problemsFromZod, UpstreamUnavailableError } from '../errors.js';
import { commonFailure, withSiemRetries } from './siem-http.js';

/**
 * A QRadar offense as POST /api/enrich receives it (`{offense_id}`, optionally with the
 * detection), read back through the API (IBM QRadar REST API 12.0, "GET /siem/offenses/{offense_id}"),
 * and the note the write-back adds ("POST /siem/offenses/{offense_id}/notes", note_text as a
 * query parameter).
 */
export const qradarOffenseRefSchema = z.object({ offense_id: z.coerce.number().int().positive(), detectionId: z.string().optional() }).strict();

export function isQradarOffenseRef(body: Record<string, unknown>): boolean {
  return 'offense_id' in body;
}

export function parseQradarOffenseRef(body: unknown): z.output<typeof qradarOffenseRefSchema> {
  const parsed = qradarOffenseRefSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid QRadar offense reference', problemsFromZod(parsed.error.issues));
  return parsed.data;
}

export interface Offense {
  id: number;
  description: string;
  /** Epoch ms. */
  start_time: number;
  last_updated_time?: number;
  offense_source?: string;
}

const offenseSchema = z.object({ id: z.number(), description: z.string().default(''), start_time: z.number(), last_updated_time: z.number().optional(), offense_source: z.string().optional() }).loose();

export async function readOffense(http: AxiosInstance, offenseId: number, deadlineMs: number): Promise<Offense> {
  return withSiemRetries(Date.now() + deadlineMs, async () => {
    const r = await http.get(`/api/siem/offenses/${offenseId}`);
    if (r.status === 404) throw new ValidationError('unknown QRadar offense', [{ path: 'offense_id', message: `QRadar has no offense ${offenseId}` }]);
    if (r.status !== 200) throw commonFailure('QRadar', 'QRADAR_TOKEN', r, `reading offense ${offenseId}`) ?? new UpstreamUnavailableError('QRadar', `HTTP ${r.status} reading offense ${offenseId}`, r.status);
    const parsed = offenseSchema.safeParse(r.data);
    if (!parsed.success) throw new UpstreamUnavailableError('QRadar', `offense ${offenseId} answered an unexpected shape`, r.status);
    return parsed.data;
  });
}

/** QRadar keeps notes short; a longer text is cut here rather than refused there. */
export const MAX_NOTE_CHARS = 2_000;

export async function addOffenseNote(http: AxiosInstance, offenseId: number, text: string, deadlineMs: number): Promise<{ status: number }> {
  const noteText = text.length > MAX_NOTE_CHARS ? `${text.slice(0, MAX_NOTE_CHARS - 1)}…` : text;
  return withSiemRetries(Date.now() + deadlineMs, async () => {
    const r = await http.post(`/api/siem/offenses/${offenseId}/notes`, null, { params: { note_text: noteText } });
    if (r.status !== 201 && r.status !== 200) throw commonFailure('QRadar', 'QRADAR_TOKEN', r, `adding a note to offense ${offenseId}`) ?? new UpstreamUnavailableError('QRadar', `HTTP ${r.status} adding a note`, r.status);
    return { status: r.status };
  });
}
