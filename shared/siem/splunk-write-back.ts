import type { AxiosInstance } from 'axios';
import { UpstreamUnavailableError } from '../errors.js';
import type { Level } from '../model.js';
import { commonFailure, withSiemRetries } from './siem-http.js';

/**
 * Findings back into Splunk: as an event through the HTTP Event Collector (Splunk docs, "Format
 * events for HTTP Event Collector": `{time, host, source, sourcetype, index, event}` to
 * /services/collector/event with `Authorization: Splunk <token>`; success is `{"text":"Success","code":0}`),
 * and, under Splunk Enterprise Security, an update of the notable event that raised the alert
 * (Splunk ES REST API, POST /services/notable_update with ruleUIDs, comment and urgency).
 */
export interface HecEvent {
  /** Epoch seconds. */
  time: number;
  index?: string;
  sourcetype: string;
  source: string;
  event: Record<string, unknown>;
}

export async function sendHecEvent(hec: AxiosInstance, event: HecEvent, deadlineMs: number): Promise<{ status: number }> {
  return withSiemRetries(Date.now() + deadlineMs, async () => {
    const r = await hec.post('/services/collector/event', event);
    const code = (r.data as { code?: number } | undefined)?.code;
    if (r.status === 200 && code === 0) return { status: 200 };
    throw commonFailure('Splunk HEC', 'SPLUNK_HEC_TOKEN', r, `HEC code ${code ?? 'none'}`) ?? new UpstreamUnavailableError('Splunk HEC', `HTTP ${r.status}, HEC code ${code ?? 'none'}`, r.status);
  });
}

/** Splunk ES urgencies for certsoar levels. */
export const URGENCY: Record<Level, string> = { Informational: 'informational', Low: 'low', Medium: 'medium', High: 'high' };

export async function updateNotable(http: AxiosInstance, notableEventId: string, comment: string, level: Level, deadlineMs: number): Promise<{ status: number }> {
  const form = new URLSearchParams({ ruleUIDs: notableEventId, comment, urgency: URGENCY[level] });
  return withSiemRetries(Date.now() + deadlineMs, async () => {
    const r = await http.post('/services/notable_update', form, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    if (r.status === 200 && (r.data as { success?: boolean } | undefined)?.success !== false) return { status: 200 };
    throw commonFailure('Splunk ES', 'SPLUNK_TOKEN', r, 'notable update') ?? new UpstreamUnavailableError('Splunk ES', `HTTP ${r.status} updating notable ${notableEventId}`, r.status);
  });
}
