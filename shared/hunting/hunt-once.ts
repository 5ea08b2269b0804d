/**
 * One hunt, once, in this process: what `certsoar hunt` (Log Analytics mode) calls.
 *
 *   huntOnce({ config, credential, tuning, detectionIds?, since?, state?, now?, log?, logsClient? })
 *     → Promise<{ hits: Hit[]; perDetection: DetectionRunResult[]; problems: string[] }>
 *
 * - config: loadConfig(env); HUNT_SOURCE picks the SIEM (Log Analytics: LOG_ANALYTICS_WORKSPACE_ID;
 *   Splunk: SPLUNK_URL, SPLUNK_TOKEN; QRadar: QRADAR_URL, QRADAR_TOKEN).
 * - credential: DefaultAzureCredential in the CLI (az login; AZURE_TOKEN_CREDENTIALS honoured),
 *   a fake in tests. Used for Log Analytics and, with identity-based storage, for the state.
 * - tuning: the tuning document (detection parameters and weights).
 * - detectionIds: which detections (default: those HUNTS_ENABLED enables). Unknown id → ValidationError.
 * - since: ad-hoc window start as a duration ("2h") or milliseconds: the window is
 *   [now − since, now − HUNT_INGESTION_DELAY), every hit in it is returned and no state is read
 *   or written. Without it the window continues from the CLI's own watermark (first run: now −
 *   HUNT_INITIAL_LOOKBACK) and hits seen by an earlier run are not returned again.
 * - state: { state, seen } stores; default: Table Storage from STATE_STORAGE_CONNECTION under the
 *   scope 'cli' (never the functions' watermarks or seen hits), or in memory when it is not set.
 * - now / log / logsClient: clock, progress messages, and a LogsQueryClient to use (tests).
 *
 * hits: the new hits of every detection, in detection order. perDetection: one result per
 * detection (status ok | incomplete | failed | unhealthy, window, counts, problems).
 * problems: every problem of every detection, one line each (never secrets). A failing detection
 * does not stop the others. Throws ConfigError when a setting is missing or invalid.
 */
import type { TokenCredential } from '@azure/identity';
import type { LogsQueryClient } from '@azure/monitor-query-logs';
import { type Config, requireSettings } from '../config.js';
import { getDetection } from '../detections/index.js';
import { parseDuration } from '../duration.js';
import { ValidationError } from '../errors.js';
import type { Hit } from '../model.js';
import type { Tuning } from '../scoring/tuning.js';
import { MemoryHitSink } from '../state/hit-queue.js';
import { HUNT_STATE_TABLE, type HuntStateStore, MemoryHuntState, TableHuntState } from '../state/hunt-state.js';
import { MemorySeenHits, SEEN_HITS_TABLE, type SeenHitStore, TableSeenHits } from '../state/seen-hits.js';
import { storageClients } from '../state/storage.js';
import { type DetectionRunResult, type HuntLimits, type HuntLogger, huntDetection, huntSettings } from './hunt-detection.js';
import { enabledDetections } from './schedule.js';
import { createHuntSource } from './sources/create-source.js';
import { logAnalyticsSource } from './sources/hunt-source.js';

export interface HuntStateBundle {
  state: HuntStateStore;
  seen: SeenHitStore;
}

export interface HuntOnceOptions {
  config: Config;
  credential: TokenCredential;
  tuning: Tuning;
  detectionIds?: string[];
  since?: string | number;
  state?: HuntStateBundle;
  now?: () => Date;
  log?: HuntLogger;
  logsClient?: LogsQueryClient;
  limits?: Partial<HuntLimits>;
}

export interface HuntOnceResult {
  hits: Hit[];
  perDetection: DetectionRunResult[];
  problems: string[];
}

/** The state scope the CLI uses in shared storage. */
export const CLI_STATE_SCOPE = 'cli';

export async function huntOnce(options: HuntOnceOptions): Promise<HuntOnceResult> {
  const { config } = options;
  const sinceMs = typeof options.since === 'string' ? parseDuration(options.since) : options.since;
  if (options.since !== undefined && (sinceMs === undefined || !(sinceMs > 0))) {
    throw new ValidationError('invalid --since', [{ path: 'since', message: `expected a duration like 30m, 2h or 7d, got "${String(options.since)}"` }]);
  }
  const detections = options.detectionIds?.length ? options.detectionIds.map(getDetection) : enabledDetections(config);
  const stores = options.state ?? defaultState(config, options.credential);
  const source = options.logsClient
    ? logAnalyticsSource(options.logsClient, requireSettings(config, 'hunting in Log Analytics', ['LOG_ANALYTICS_WORKSPACE_ID']).LOG_ANALYTICS_WORKSPACE_ID)
    : createHuntSource(config, options.credential, options.tuning);

  const result: HuntOnceResult = { hits: [], perDetection: [], problems: [] };
  for (const detection of detections) {
    const sink = new MemoryHitSink();
    const run = await huntDetection(
      detection,
      {
        source,
        state: stores.state,
        seen: stores.seen,
        sink,
        tuning: options.tuning,
        settings: huntSettings(config),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.now ? { now: options.now } : {}),
        ...(options.log ? { log: options.log } : {}),
      },
      sinceMs !== undefined ? { sinceMs } : {},
    );
    for (const h of sink.hits) result.hits.push(h);
    result.perDetection.push(run);
    result.problems.push(...run.problems);
  }
  return result;
}

function defaultState(config: Config, credential: TokenCredential): HuntStateBundle {
  const clients = storageClients(config, credential);
  if (!clients) return { state: new MemoryHuntState(), seen: new MemorySeenHits() };
  return {
    state: new TableHuntState(clients.table(HUNT_STATE_TABLE), CLI_STATE_SCOPE),
    seen: new TableSeenHits(clients.table(SEEN_HITS_TABLE), CLI_STATE_SCOPE),
  };
}
