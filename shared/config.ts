import { z } from 'zod';
import { durationSchema } from './duration.js';
import { ConfigError, problemsFromZod } from './errors.js';

/**
 * Every setting certsoar reads, in one schema. This is the single list of setting names:
 * local.settings.sample.json, the README table and the Bicep app settings must agree with it
 * (tests enforce that).
 */

const optionalText = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const optionalUrl = () => optionalText.pipe(url.optional());
const urlWithDefault = (fallback: string) => optionalUrl().transform((v) => v ?? fallback);

const bool = (fallback: boolean) =>
  optionalText.pipe(z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).optional()).transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

const int = (fallback: number, min: number, max: number) =>
  optionalText
    .pipe(z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(min).max(max)).optional())
    .transform((v) => v ?? fallback);

const duration = (fallback: string) => optionalText.transform((v) => v ?? fallback).pipe(durationSchema);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;
const WORKSPACE_ARM_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i;

export const configSchema = z.object({
  // Log Analytics (hunts)
  LOG_ANALYTICS_WORKSPACE_ID: optionalText.pipe(z.string().regex(GUID, 'expected the workspace (customer) id, a GUID').optional()),
  LOG_ANALYTICS_ENDPOINT: urlWithDefault('https://api.loganalytics.io/v1'),

  // Hunt source: which SIEM the hunts query (one hunting engine, one adapter per source)
  HUNT_SOURCE: optionalText.transform((v) => v ?? 'loganalytics').pipe(z.enum(['loganalytics', 'splunk', 'qradar'], { error: 'expected loganalytics, splunk or qradar' })),

  // Splunk (hunts through the REST export endpoint, intake of the webhook alert action, write-back)
  SPLUNK_URL: optionalUrl(),
  SPLUNK_TOKEN: optionalText,
  SPLUNK_CA_PEM: optionalText,
  SPLUNK_HEC_URL: optionalUrl(),
  SPLUNK_HEC_TOKEN: optionalText,
  SPLUNK_HEC_INDEX: optionalText.transform((v) => v ?? 'certsoar'),
  SPLUNK_ES_ENABLED: bool(false),

  // IBM QRadar (hunts through Ariel, intake of offenses, notes on offenses)
  QRADAR_URL: optionalUrl(),
  QRADAR_TOKEN: optionalText,
  QRADAR_CA_PEM: optionalText,
  QRADAR_API_VERSION: optionalText.transform((v) => v ?? '20.0').pipe(z.string().regex(/^\d+\.\d+$/, 'expected an API version such as 20.0')),

  // Hunts
  HUNTS_ENABLED: optionalText.transform((v) => v ?? 'all'),
  HUNT_SCHEDULE_T1608_003: optionalText,
  HUNT_SCHEDULE_T1588_004: optionalText,
  HUNT_SCHEDULE_T1587_003: optionalText,
  HUNT_OVERLAP: duration('10m'),
  HUNT_INGESTION_DELAY: duration('5m'),
  HUNT_MAX_WINDOW: duration('6h'),
  HUNT_INITIAL_LOOKBACK: duration('1d'),
  SEEN_HIT_TTL: duration('7d'),
  THREAT_QUIET_PERIOD: duration('7d'),
  THREAT_ENDPOINT_LOOKBACK: duration('7d'),

  // crt.sh
  CRTSH_BASE_URL: urlWithDefault('https://crt.sh'),
  CRTSH_CONCURRENCY: int(3, 1, 16),
  CRTSH_TIMEOUT: duration('30s'),
  CRTSH_CACHE_TTL: duration('24h'),
  CRTSH_CONTACT: optionalText,
  // Caps on one crt.sh answer (hostile or broken answers must not exhaust memory).
  CRTSH_MAX_WIRE_BYTES: int(16_777_216, 65_536, 1_073_741_824),
  CRTSH_MAX_RESPONSE_BYTES: int(67_108_864, 65_536, 1_073_741_824),
  CRTSH_MAX_RECORDS: int(10_000, 100, 1_000_000),

  // Live TLS probe
  TLS_PROBE_ENABLED: bool(false),
  TLS_PROBE_ALLOW_PRIVATE: bool(false),
  TLS_PROBE_TIMEOUT: duration('5s'),

  // State
  STATE_STORAGE_CONNECTION: optionalText,
  STATE_STORAGE_CONNECTION__tableServiceUri: optionalUrl(),
  STATE_STORAGE_CONNECTION__queueServiceUri: optionalUrl(),

  // Scoring
  TUNING_FILE: optionalText,
  TUNING_JSON: optionalText,

  // HTTP enrichment
  ENRICH_MAX_BODY_BYTES: int(1_048_576, 1_024, 104_857_600),
  // Nesting depth a request body may have; checked on the raw text before JSON.parse.
  ENRICH_MAX_JSON_DEPTH: int(64, 4, 1_000),
  // The whole request, crt.sh included: an HTTP-triggered function is cut at 230 s by the Azure load balancer.
  ENRICH_DEADLINE: optionalText.transform((v) => v ?? '200s').pipe(durationSchema).pipe(z.number().max(220_000, 'must stay below the 230 s an HTTP function can hold')),

  // Delivery
  INCIDENT_WEBHOOK_URL: optionalUrl(),
  TEAMS_WEBHOOK_URL: optionalUrl(),
  // Must stay below host.json maxDequeueCount (10), so deliver() poisons with a reason before the host does.
  DELIVERY_MAX_ATTEMPTS: int(5, 1, 9),
  DIGEST_THRESHOLD: int(10, 1, 1000),
  SENTINEL_WORKSPACE_RESOURCE_ID: optionalText.pipe(z.string().regex(WORKSPACE_ARM_ID, 'expected /subscriptions/…/resourceGroups/…/providers/Microsoft.OperationalInsights/workspaces/…').optional()),
  ARM_ENDPOINT: urlWithDefault('https://management.azure.com'),
  SENTINEL_INCIDENT_LABEL: optionalText.transform((v) => v ?? 'certsoar'),

  // Sentinel detection mode: 'hunts' (the timers detect; findings go to CertsoarFindings_CL) or
  // 'rules' (Sentinel's analytics rules detect; the playbook calls POST /api/enrich). Never both.
  DETECTION_MODE: optionalText.pipe(z.enum(['hunts', 'rules'], { error: 'expected hunts or rules' }).optional()).transform((v) => v ?? 'hunts'),
  // Logs Ingestion API (hunts mode): the data collection rule's endpoint and immutable id, and its stream.
  LOGS_INGESTION_ENDPOINT: optionalUrl(),
  LOGS_INGESTION_RULE_ID: optionalText.pipe(z.string().regex(DCR_IMMUTABLE_ID, 'expected the data collection rule\'s immutable id, dcr- and 32 hex digits').optional()),
  LOGS_INGESTION_STREAM: optionalText.transform((v) => v ?? 'Custom-CertsoarFindings_CL'),
});

export type Config = z.output<typeof configSchema>;
export type SettingName = keyof z.input<typeof configSchema>;

/** Every setting name, in schema order. */
export const SETTING_NAMES = Object.keys(configSchema.shape) as SettingName[];

/**
 * App settings the Functions host and the platform read, not certsoar: local.settings.sample.json
 * and the Bicep app settings may carry these beside SETTING_NAMES (tests allow exactly these).
 */
export const HOST_SETTINGS: readonly string[] = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsFeatureFlags',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
];

/** Settings whose values are secrets: never logged, never shown. */
export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set<SettingName>([
  'INCIDENT_WEBHOOK_URL',
  'TEAMS_WEBHOOK_URL',
  'STATE_STORAGE_CONNECTION',
  'TUNING_JSON',
  'SPLUNK_TOKEN',
  'SPLUNK_HEC_TOKEN',
  'QRADAR_TOKEN',
]);

/**
 * Parses settings from an env object (process.env in the app, a literal in tests). Unknown
 * variables are ignored; every invalid setting is reported at once.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const name of SETTING_NAMES) picked[name] = env[name];
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) throw new ConfigError(problemsFromZod(parsed.error.issues));
  return parsed.data;
}

/** Fails with every missing setting a feature needs, by name. */
export function requireSettings<K extends keyof Config>(config: Config, feature: string, names: K[]): { [P in K]-?: NonNullable<Config[P]> } {
  const missing = names.filter((n) => config[n] === undefined || config[n] === '');
  if (missing.length > 0) {
    throw new ConfigError(missing.map((n) => ({ path: String(n), message: `required for ${feature}` })));
  }
  return config as unknown as { [P in K]-?: NonNullable<Config[P]> };
}
