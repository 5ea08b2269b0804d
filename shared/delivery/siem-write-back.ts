import type { AxiosInstance } from 'axios';
import type { Config } from '../config.js';
import type { Finding } from '../model.js';
import { redact } from '../redact.js';
import { qradarHttp, splunkHecHttp, splunkHttp } from '../siem/connections.js';
import { addOffenseNote } from '../siem/qradar-offense.js';
import { sendHecEvent, updateNotable } from '../siem/splunk-write-back.js';
import { terminalSafe } from '../text/escape.js';
import { summaryLines } from './sentinel.js';

/**
 * Write-back where Splunk and QRadar analysts work, one step per destination; the deliverer runs
 * each through the delivery ledger, so each (finding, destination) is written once:
 * - splunk-hec: every finding not suppressed, as an event in SPLUNK_HEC_INDEX (sourcetype
 *   certsoar:finding) — the Splunk counterpart of the incident webhook;
 * - splunk-notable: under Splunk ES, a comment and the urgency of the level on the notable event
 *   that raised the alert (suppressed findings too: the comment says why);
 * - qradar-note: a note with the enrichment and reasons on the offense the finding came from.
 */
export type SiemDestination = 'splunk-hec' | 'splunk-notable' | 'qradar-note';

export interface SiemWriteBack {
  hec?: { http: AxiosInstance; index: string };
  notables?: AxiosInstance;
  qradar?: AxiosInstance;
  /** Per write, including retries. */
  deadlineMs: number;
}

export interface SiemStep {
  destination: SiemDestination;
  send: () => Promise<{ attempts: number; httpStatus?: number }>;
}

/** Plain text for a SIEM console: no control characters, no secrets. */
const noteText = (finding: Finding) => terminalSafe(redact(summaryLines(finding).join('\n')));

export function siemSteps(wb: SiemWriteBack, finding: Finding): SiemStep[] {
  const steps: SiemStep[] = [];
  const origin = finding.hit.incident?.siem;
  if (wb.hec && !finding.suppressedBy) {
    const { http, index } = wb.hec;
    steps.push({ destination: 'splunk-hec', send: async () => ({ attempts: 1, httpStatus: (await sendHecEvent(http, hecEvent(finding, index), wb.deadlineMs)).status }) });
  }
  if (wb.notables && origin?.kind === 'splunk' && origin.notableEventId) {
    const [http, id] = [wb.notables, origin.notableEventId];
    steps.push({ destination: 'splunk-notable', send: async () => ({ attempts: 1, httpStatus: (await updateNotable(http, id, noteText(finding), finding.level, wb.deadlineMs)).status }) });
  }
  if (wb.qradar && origin?.kind === 'qradar') {
    const [http, offenseId] = [wb.qradar, origin.offenseId];
    steps.push({ destination: 'qradar-note', send: async () => ({ attempts: 1, httpStatus: (await addOffenseNote(http, offenseId, noteText(finding), wb.deadlineMs)).status }) });
  }
  return steps;
}

/** The finding as a HEC event: what a Splunk search needs, not the whole enrichment. */
function hecEvent(finding: Finding, index: string) {
  return {
    time: Date.parse(finding.scoredAt) / 1000,
    index,
    sourcetype: 'certsoar:finding',
    source: 'certsoar',
    event: {
      finding_id: finding.id,
      detection_id: finding.hit.detectionId,
      level: finding.level,
      score: finding.score,
      reasons: finding.reasons.map((r) => ({ id: r.id, points: r.points, reason: r.reason })),
      entities: finding.hit.entities,
      certificate: finding.hit.certificate,
      event_time: finding.hit.time,
      ...(finding.hit.incident?.siem ? { alert: finding.hit.incident.siem } : {}),
      missing_enrichment: finding.enrichment.missing.map((m) => m.source),
    },
  };
}

export type SiemSettings =
  | 'SPLUNK_URL'
  | 'SPLUNK_TOKEN'
  | 'SPLUNK_CA_PEM'
  | 'SPLUNK_HEC_URL'
  | 'SPLUNK_HEC_TOKEN'
  | 'SPLUNK_HEC_INDEX'
  | 'SPLUNK_ES_ENABLED'
  | 'QRADAR_URL'
  | 'QRADAR_TOKEN'
  | 'QRADAR_CA_PEM'
  | 'QRADAR_API_VERSION';

/** What the settings switch on: HEC by its URL and token, notables by SPLUNK_ES_ENABLED, QRadar notes by its URL and token. */
export function siemWriteBackFromConfig(config: Pick<Config, SiemSettings>): SiemWriteBack | undefined {
  const hec = splunkHecHttp(config);
  const notables = config.SPLUNK_ES_ENABLED ? splunkHttp(config) : undefined;
  const qradar = qradarHttp(config);
  if (!hec && !notables && !qradar) return undefined;
  return {
    ...(hec ? { hec: { http: hec, index: config.SPLUNK_HEC_INDEX } } : {}),
    ...(notables ? { notables } : {}),
    ...(qradar ? { qradar } : {}),
    deadlineMs: 60_000,
  };
}
