import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config.js';
import { requireSettings } from '../../config.js';
import { aqlQuery } from '../../detections/backends/aql.js';
import { splSearches } from '../../detections/backends/spl.js';
import type { Tuning } from '../../scoring/tuning.js';
import type { AxiosInstance } from 'axios';
import { qradarHttp, splunkHttp } from '../../siem/connections.js';
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
      requireSettings(config, 'hunting in Splunk', ['SPLUNK_URL', 'SPLUNK_TOKEN']);
      return splunkSource(splunkHttp(config) as AxiosInstance, (d) => splSearches(tuning, [d]).map((x) => x.search), SIEM_MAX_ROWS);
    }
    case 'qradar': {
      requireSettings(config, 'hunting in QRadar', ['QRADAR_URL', 'QRADAR_TOKEN']);
      return qradarSource(qradarHttp(config) as AxiosInstance, (d, _params, slice) => aqlQuery(d, tuning, slice).query, SIEM_MAX_ROWS);
    }
    default: {
      const s = requireSettings(config, 'hunting in Log Analytics', ['LOG_ANALYTICS_WORKSPACE_ID']);
      return logAnalyticsSource(createLogsQueryClient(credential, { endpoint: config.LOG_ANALYTICS_ENDPOINT }), s.LOG_ANALYTICS_WORKSPACE_ID);
    }
  }
}
