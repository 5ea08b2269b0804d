import type { AxiosInstance } from 'axios';
import type { Config } from '../config.js';
import { createSiemHttp } from './siem-http.js';

/**
 * The SIEM connections the settings describe, each undefined when its settings are not all set.
 * Tokens travel only in headers: Splunk's REST API takes a bearer token, HEC "Splunk <token>",
 * QRadar an authorized service token in SEC with the API version in Version.
 */
export function splunkHttp(config: Pick<Config, 'SPLUNK_URL' | 'SPLUNK_TOKEN' | 'SPLUNK_CA_PEM'>): AxiosInstance | undefined {
  if (!config.SPLUNK_URL || !config.SPLUNK_TOKEN) return undefined;
  return createSiemHttp({ baseUrl: config.SPLUNK_URL, headers: { Authorization: `Bearer ${config.SPLUNK_TOKEN}` }, ...(config.SPLUNK_CA_PEM ? { caPem: config.SPLUNK_CA_PEM } : {}), timeoutMs: 300_000 });
}

export function splunkHecHttp(config: Pick<Config, 'SPLUNK_HEC_URL' | 'SPLUNK_HEC_TOKEN' | 'SPLUNK_CA_PEM'>): AxiosInstance | undefined {
  if (!config.SPLUNK_HEC_URL || !config.SPLUNK_HEC_TOKEN) return undefined;
  return createSiemHttp({ baseUrl: config.SPLUNK_HEC_URL, headers: { Authorization: `Splunk ${config.SPLUNK_HEC_TOKEN}` }, ...(config.SPLUNK_CA_PEM ? { caPem: config.SPLUNK_CA_PEM } : {}), timeoutMs: 30_000 });
}

export function qradarHttp(config: Pick<Config, 'QRADAR_URL' | 'QRADAR_TOKEN' | 'QRADAR_CA_PEM' | 'QRADAR_API_VERSION'>): AxiosInstance | undefined {
  if (!config.QRADAR_URL || !config.QRADAR_TOKEN) return undefined;
  return createSiemHttp({
    baseUrl: config.QRADAR_URL,
    headers: { SEC: config.QRADAR_TOKEN, Version: config.QRADAR_API_VERSION, Accept: 'application/json' },
    ...(config.QRADAR_CA_PEM ? { caPem: config.QRADAR_CA_PEM } : {}),
    timeoutMs: 60_000,
  });
}
