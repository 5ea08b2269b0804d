import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config.js';
import { requireSettings } from '../../config.js';
import { aqlQuery } from '../../detections/backends/aql.js';
import { splSearches } from '../../detections/backends/spl.js';
import type { Tuning } from '../../scoring/tuning.js';
import { createSiemHttp } from '../../siem/siem-http.js';
import { createLogsQueryClient } from '../log-analytics.js';
import { type HuntSource, logAnalyticsSource, qradarSource, splunkSource } from './hunt-source.js';

/** Rows one Splunk or QRadar answer may hold before the engine splits the slice (Log Analytics' own cap). */
export const SIEM_MAX_ROWS = 500_000;

/**
 * The hunt source HUNT_SOURCE names, with the settings it needs (every missing one named at once).
 * The SPL and AQL are the exported ones, compiled from the same definitions and tuning as the KQL.
 */
export function createHuntSource(config: Config, credential: TokenCredential, tuning: Tuning): HuntSource {
  switch (config.HUNT_SOURCE) {
    case 'splunk': {
      const s = requireSettings(config, 'hunting in Splunk', ['SPLUNK_URL', 'SPLUNK_TOKEN']);
      const http = createSiemHttp({ baseUrl: s.SPLUNK_URL, headers: { Authorization: `Bearer ${s.SPLUNK_TOKEN}` }, ...(config.SPLUNK_CA_PEM ? { caPem: config.SPLUNK_CA_PEM } : {}), timeoutMs: 300_000 });
      return splunkSource(http, (d) => splSearches(tuning, [d]).map((x) => x.search), SIEM_MAX_ROWS);
    }
    case 'qradar': {
      const s = requireSettings(config, 'hunting in QRadar', ['QRADAR_URL', 'QRADAR_TOKEN']);
      const http = createSiemHttp({
        baseUrl: s.QRADAR_URL,
        headers: { SEC: s.QRADAR_TOKEN, Version: config.QRADAR_API_VERSION, Accept: 'application/json' },
        ...(config.QRADAR_CA_PEM ? { caPem: config.QRADAR_CA_PEM } : {}),
        timeoutMs: 60_000,
      });
      return qradarSource(http, (d, _params, slice) => aqlQuery(d, tuning, slice).query, SIEM_MAX_ROWS);
    }
    default: {
      const s = requireSettings(config, 'hunting in Log Analytics', ['LOG_ANALYTICS_WORKSPACE_ID']);
      return logAnalyticsSource(createLogsQueryClient(credential, { endpoint: config.LOG_ANALYTICS_ENDPOINT }), s.LOG_ANALYTICS_WORKSPACE_ID);
    }
  }
}
