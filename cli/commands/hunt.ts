import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenCredential } from '@azure/identity';
import { type Config, loadConfig, requireSettings } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';
import { buildFindingCard } from '../../shared/delivery/card.js';
import { delivererFromConfig } from '../../shared/delivery/deliverer.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import type { Detection } from '../../shared/detections/types.js';
import { parseDuration } from '../../shared/duration.js';
import { enricherFromConfig } from '../../shared/enrichment/enricher.js';
import { CLI_STATE_SCOPE, huntOnce } from '../../shared/hunting/hunt-once.js';
import { scopeForEndpoint } from '../../shared/hunting/log-analytics.js';
import { enabledDetections } from '../../shared/hunting/schedule.js';
import { type Workspace, loadWorkspace } from '../../shared/hunting/workspace.js';
import type { Finding, Hit } from '../../shared/model.js';
import { type HitEnricher, findingsForHits } from '../../shared/pipeline.js';
import { errorMessage } from '../../shared/redact.js';
import { knownThreatsFromConfig } from '../../shared/threats/threat-sink.js';
import { threatSettings } from '../../shared/threats/track-threats.js';
import type { Tuning } from '../../shared/scoring/tuning.js';
import { signedInCredential } from '../azure-sign-in.js';
import { CliError, type CliIo, type Command, UsageError } from '../io.js';
import { checkSettings, validSettings } from '../settings/check.js';
import { evaluateWorkspace, summaryLines, WORKSPACE_TABLES } from '../workspace-input/evaluate.js';
import { startCrtshReplay } from '../offline/crtsh-replay.js';
import { loadOfflineSamples, SAMPLES } from '../offline/samples.js';
import { renderReport } from '../report/html.js';
import { progressBar } from '../report/progress.js';
import { screenshot } from '../report/screenshot.js';
import { findingsTable } from '../report/table.js';
import { removeStaleCards } from '../report/cards-dir.js';
import { LEVELS, parseLevel, selectFindings, type Selection } from '../report/select.js';
import { interruptible } from '../interrupt.js';
import { DeliveryDeadline, deliverWithinDeadline } from '../delivery/deadline.js';

export const HUNT_USAGE = `usage: certsoar hunt [--offline | --workspace DIR | --source SIEM] [options]

  (neither)          hunt the SIEM HUNT_SOURCE names (default Log Analytics: LOG_ANALYTICS_WORKSPACE_ID,
                     az login works); the watermark and seen hits live in Table Storage with
                     STATE_STORAGE_CONNECTION (scope 'cli'), else in memory, so a later run prints only
                     hits not printed before
  --source SIEM      loganalytics, splunk (SPLUNK_URL, SPLUNK_TOKEN) or qradar (QRADAR_URL, QRADAR_TOKEN):
                     runs the exported KQL, SPL or AQL; overrides HUNT_SOURCE
  --offline          the bundled demo: samples/ workspace, recorded crt.sh answers, no network
  --workspace DIR    tables exported from Log Analytics (NDJSON, portal CSV, az JSON), named by file
  --detection ID     only this detection (repeatable): ${DETECTIONS.map((d) => d.meta.id).join(', ')}
  --since DURATION   only rows newer than now - DURATION (e.g. 24h, 7d); online: this window, no state
  --now ISO-TIME     the time the hunt runs at (offline: the samples move to it; default: now)
  --out DIR          write findings.ndjson, cards/<id>.json, report.html (offline default ./certsoar-out)
  --png              also screenshot report.html with headless Chromium (/usr/bin/chromium)
  --deliver          post the findings (INCIDENT_WEBHOOK_URL, TEAMS_WEBHOOK_URL), suppressed ones excepted
  --deliver-timeout DURATION  give up waiting for the webhooks after this long (default 60s)
  --min-level LEVEL  only findings at LEVEL or above (Informational, Low, Medium, High)
  --limit N          only the N highest-scoring findings (after --min-level)
  --json             NDJSON on stdout instead of the table: one line per finding (one per threat),
                     {detectionId, row, id, threatId, occurrences, firstSeen, lastSeen, sources, update?,
                      score, level, reasons, suppressedBy?, hit, enrichment, scoredAt}
  -h, --help         this text`;

interface HuntOptions {
  offline: boolean;
  source?: HuntSourceName;
  workspace?: string;
  detections: Detection[];
  sinceMs?: number;
  sinceText?: string;
  now: Date;
  out?: string;
  png: boolean;
  deliver: boolean;
  json: boolean;
  selection: Selection;
  deliverTimeoutMs: number;
}

export const run: Command = async (args, io) => {
  const options = parseOptions(args, io);
  if (!options) {
    io.stdout(`${HUNT_USAGE}\n`);
    return 0;
  }
  const say = options.json ? io.stderr : io.stdout;
  // The same check as `certsoar validate`: a document validate rejects never hunts.
  const settings = validSettings(checkSettings(io.env, io.cwd, options.offline ? { defaultTuningFile: SAMPLES.tuning } : {}));
  const baseConfig = settings.config;
  if (options.deliver && !baseConfig.INCIDENT_WEBHOOK_URL && !baseConfig.TEAMS_WEBHOOK_URL) {
    throw new ConfigError(['INCIDENT_WEBHOOK_URL', 'TEAMS_WEBHOOK_URL'].map((path) => ({ path, message: 'set at least one to use --deliver' })));
  }

  let hits: Hit[];
  let findings: Finding[];
  let source: string;
  let tuning: Tuning;
  let huntFailed = false;
  if (options.offline) {
    const samples = await loadOfflineSamples(options.now);
    tuning = settings.tuning;
    const replay = await startCrtshReplay({ dir: SAMPLES.crtsh, shiftMs: samples.shiftMs });
    try {
      // Offline: crt.sh is the local replay, no live TLS probe, no shared state (memory only).
      const config: Config = { ...baseConfig, CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: false, STATE_STORAGE_CONNECTION: undefined, STATE_STORAGE_CONNECTION__tableServiceUri: undefined, STATE_STORAGE_CONNECTION__queueServiceUri: undefined };
      hits = hitsFromWorkspace(samples.workspace, options, tuning, io);
      findings = await score(hits, config, tuning, options, io, undefined);
    } finally {
      await replay.close();
    }
    source = `offline demo: bundled samples (${describeWorkspace(samples.workspace)}), recorded crt.sh answers`;
  } else {
    tuning = settings.tuning;
    if (options.workspace) {
      const dir = resolve(io.cwd, options.workspace);
      const workspace = await loadWorkspace(dir, { tables: WORKSPACE_TABLES });
      hits = hitsFromWorkspace(workspace, options, tuning, io);
      source = `workspace ${dir} (${describeWorkspace(workspace)})`;
      findings = await score(hits, baseConfig, tuning, options, io, undefined);
    } else {
      const config: Config = options.source ? { ...baseConfig, HUNT_SOURCE: options.source } : baseConfig;
      const credential = await credentialFor(config, io);
      const online = await huntOnce({
        config,
        credential,
        tuning,
        detectionIds: options.detections.map((d) => d.meta.id),
        ...(options.sinceMs !== undefined ? { since: options.sinceMs } : {}),
        now: () => options.now,
        log: { info: () => undefined, warn: (m) => io.stderr(`certsoar hunt: ${m}\n`), error: (m) => io.stderr(`certsoar hunt: ${m}\n`) },
      });
      hits = online.hits;
      source = describeSource(config);
      findings = await score(hits, config, tuning, options, io, config.HUNT_SOURCE === 'loganalytics' ? credential : undefined);
      for (const p of online.problems) io.stderr(`certsoar hunt: ${p}\n`);
      huntFailed = online.perDetection.some((r) => r.status !== 'ok');
    }
  }

  const interrupted = io.signal?.aborted === true;
  const all = findings;
  const selected = selectFindings(all, options.selection);
  findings = selected.shown;
  if (options.json) for (const f of findings) io.stdout(findingLine(f));
  else {
    io.stdout(findings.length ? findingsTable(findings) : 'no findings\n');
    io.stdout(`${summaryLine(hits, all)}\n`);
  }
  if (selected.left > 0) say(`${selected.left} finding(s) not shown (--min-level / --limit)\n`);

  const out = options.out ?? (options.offline ? 'certsoar-out' : undefined);
  if (out) await writeOutputs(resolve(io.cwd, out), findings, source, options, say);

  if (interrupted) {
    io.stderr('certsoar hunt: interrupted: findings not yet enriched were scored on base signals; nothing delivered\n');
    return 130;
  }
  let failed = huntFailed;
  if (options.deliver) {
    const credential = baseConfig.SENTINEL_WORKSPACE_RESOURCE_ID ? await signedInCredential(io, `${new URL(baseConfig.ARM_ENDPOINT).origin}/.default`, 'Sentinel') : undefined;
    const deadline = new DeliveryDeadline(options.deliverTimeoutMs);
    const deliverer = delivererFromConfig(baseConfig, credential, { post: deadline.postOptions(), log: (level, m) => level === 'warn' && io.stderr(`certsoar hunt: ${m}\n`) });
    // All findings: the Deliverer keeps suppressed ones from the webhooks, as in the function.
    const outcome = await deliverWithinDeadline(deliverer, findings, deadline, io.stderr);
    if (!outcome.done) {
      say(`delivery: stopped waiting after ${Math.round(deadline.timeoutMs / 1000)} s (--deliver-timeout): the webhooks did not answer in time; run --deliver again later, each finding is posted once\n`);
      return 1;
    }
    const report = outcome.report;
    say(`delivery: ${report.posted} posted, ${report.skipped} already posted, ${report.failed} failed${report.digest ? ' (Teams: one digest card)' : ''}; ${report.suppressed.length} suppressed finding(s) not sent${report.notConfigured.length ? `; not configured: ${report.notConfigured.join(', ')}` : ''}\n`);
    failed ||= report.failed > 0;
  }
  return failed ? 1 : 0;
};

function parseOptions(args: string[], io: CliIo): HuntOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        offline: { type: 'boolean', default: false },
        workspace: { type: 'string' },
        source: { type: 'string' },
        detection: { type: 'string', multiple: true },
        since: { type: 'string' },
        now: { type: 'string' },
        out: { type: 'string' },
        png: { type: 'boolean', default: false },
        deliver: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'min-level': { type: 'string' },
        limit: { type: 'string' },
        'deliver-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(errorMessage(err), HUNT_USAGE);
  }
  if (values.help) return undefined;
  if (values.offline && values.workspace !== undefined) throw new UsageError('--offline and --workspace cannot be combined', HUNT_USAGE);
  if (values.workspace === '') throw new UsageError('--workspace needs a directory', HUNT_USAGE);
  if (values.source !== undefined && !(HUNT_SOURCES as readonly string[]).includes(values.source)) {
    throw new UsageError(`--source "${values.source}" is not one of ${HUNT_SOURCES.join(', ')}`, HUNT_USAGE);
  }
  if (values.source !== undefined && (values.offline || values.workspace !== undefined)) throw new UsageError('--source hunts a SIEM; it cannot be combined with --offline or --workspace', HUNT_USAGE);
  const sinceMs = values.since === undefined ? undefined : parseDuration(values.since);
  if (values.since !== undefined && sinceMs === undefined) throw new UsageError(`--since "${values.since}" is not a duration like 90m, 24h or 7d`, HUNT_USAGE);
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime()) || (values.now !== undefined && !/^\d{4}-\d{2}-\d{2}T/.test(values.now))) {
    throw new UsageError(`--now "${values.now}" is not an ISO-8601 time like 2026-01-15T12:00:00Z`, HUNT_USAGE);
  }
  const detections = values.detection?.length
    ? values.detection.map((id) => {
        const d = DETECTIONS.find((x) => x.meta.id.toLowerCase() === id.toLowerCase());
        if (!d) throw new UsageError(`unknown detection "${id}"; known: ${DETECTIONS.map((x) => x.meta.id).join(', ')}`, HUNT_USAGE);
        return d;
      })
    : enabledDetections(loadConfig(io.env));
  if (values.png && !values.offline && values.out === undefined) {
    throw new UsageError('--png needs --out DIR (or --offline)', HUNT_USAGE);
  }
  const deliverTimeoutMs = parseDuration(values['deliver-timeout'] ?? '60s');
  if (deliverTimeoutMs === undefined || deliverTimeoutMs <= 0) throw new UsageError(`--deliver-timeout "${values['deliver-timeout']}" is not a duration like 30s or 2m`, HUNT_USAGE);
  return {
    ...(values.source !== undefined ? { source: values.source as HuntSourceName } : {}),
    deliverTimeoutMs,
    selection: parseSelection(values['min-level'], values.limit),
    offline: values.offline,
    ...(values.workspace !== undefined ? { workspace: values.workspace } : {}),
    detections,
    ...(sinceMs !== undefined ? { sinceMs, sinceText: values.since! } : {}),
    now,
    ...(values.out !== undefined ? { out: values.out } : {}),
    png: values.png,
    deliver: values.deliver,
    json: values.json,
  };
}

function parseSelection(minLevel: string | undefined, limit: string | undefined): Selection {
  const level = minLevel === undefined ? undefined : parseLevel(minLevel);
  if (minLevel !== undefined && !level) throw new UsageError(`--min-level "${minLevel}" is not one of ${LEVELS.join(', ')}`, HUNT_USAGE);
  if (limit !== undefined && !/^\d+$/.test(limit.trim())) throw new UsageError(`--limit "${limit}" is not a whole number`, HUNT_USAGE);
  return { ...(level ? { minLevel: level } : {}), ...(limit !== undefined ? { limit: Number(limit) } : {}) };
}

/** Every row of every table a selected detection reads, through its TypeScript twin; a summary per table. */
function hitsFromWorkspace(workspace: Workspace, options: HuntOptions, tuning: Tuning, io: CliIo): Hit[] {
  const total = options.detections.reduce((n, d) => n + d.meta.tables.reduce((m, t) => m + (workspace.get(t)?.rows.length ?? 0), 0), 0);
  const progress = progressBar(io.stderr, 'evaluating rows', io.interactive && total >= 5_000);
  const result = evaluateWorkspace(workspace, {
    detections: options.detections,
    tuning,
    ...(options.sinceMs !== undefined ? { oldest: options.now.getTime() - options.sinceMs, sinceText: options.sinceText } : {}),
    onProgress: (done, all) => progress.update(done, all),
  });
  progress.done();
  io.stderr(summaryLines(result.tables));
  return result.hits;
}

async function score(hits: Hit[], config: Config, tuning: Tuning, options: HuntOptions, io: CliIo, credential: TokenCredential | undefined): Promise<Finding[]> {
  const enricher: HitEnricher = interruptible(enricherFromConfig(config, credential, {
    freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers,
    onCacheError: (m) => io.stderr(`certsoar hunt: crt.sh cache: ${m}\n`),
    ...(options.offline ? { now: () => options.now } : {}),
  }), io.signal);
  const progress = progressBar(io.stderr, 'enriching hits', io.interactive && hits.length >= 20);
  try {
    // One finding per threat. Online (with the watermark and seen hits) the known threats persist
    // like the rest of the CLI's state, so a later run's rows update a threat instead of repeating it.
    const online = !options.offline && !options.workspace && options.sinceMs === undefined;
    return await findingsForHits(hits, {
      tuning,
      enricher,
      threatSettings: threatSettings(config),
      ...(online ? { threatStore: knownThreatsFromConfig(config, credential, CLI_STATE_SCOPE) } : {}),
      onThreats: (t, rows) => io.stderr(`certsoar hunt: ${rows} hit(s) grouped into ${t.threats.length} threat(s)${t.unattributed ? `; ${t.unattributed} session(s) without a certificate to endpoints with no suspicious certificate` : ''}
`),
      ...(options.offline ? { now: () => options.now } : {}),
      onProgress: (done, total) => progress.update(done, total),
    });
  } finally {
    progress.done();
  }
}

async function writeOutputs(dir: string, findings: Finding[], source: string, options: HuntOptions, say: (t: string) => void): Promise<void> {
  await mkdir(join(dir, 'cards'), { recursive: true });
  await removeStaleCards(join(dir, 'cards'), new Set(findings.map((f) => f.id)));
  const cards = new Map<string, unknown>();
  for (const f of findings) {
    const card = buildFindingCard(f);
    cards.set(f.id, card);
    await writeFile(join(dir, 'cards', `${f.id}.json`), `${JSON.stringify(card, null, 2)}\n`);
  }
  await writeFile(join(dir, 'findings.ndjson'), findings.map(findingLine).join(''));
  const html = renderReport({ findings, cards, title: 'certsoar hunt report', source, generatedAt: options.now });
  const reportFile = join(dir, 'report.html');
  await writeFile(reportFile, html);
  say(`wrote ${findings.length} finding(s), ${cards.size} card(s) and ${reportFile}\n`);
  if (options.png) {
    const shot = await screenshot(reportFile, join(dir, 'report.png'), { fullPage: true });
    say(shot.ok ? `wrote ${shot.file}\n` : `no screenshot: ${shot.reason}\n`);
  }
}

/**
 * One NDJSON line per finding (--json and findings.ndjson): the hit's detection id and row at the
 * top level (one hit per line with its detection id and row), then the whole Finding, so the line
 * is still a finding `certsoar card` reads.
 */
export function findingLine(finding: Finding): string {
  return `${JSON.stringify({ detectionId: finding.hit.detectionId, row: finding.hit.row, ...finding })}\n`;
}

function summaryLine(hits: Hit[], findings: Finding[]): string {
  const live = findings.filter((f) => !f.suppressedBy);
  const by = (level: string) => live.filter((f) => f.level === level).length;
  const rows = findings.reduce((n, f) => n + f.occurrences, 0);
  return `${hits.length} hit(s) → ${findings.length} finding(s) standing for ${rows} row(s): ${by('High')} High, ${by('Medium')} Medium, ${by('Low')} Low, ${by('Informational')} Informational, ${findings.length - live.length} suppressed`;
}

function describeWorkspace(workspace: Workspace): string {
  const rows = [...workspace.values()].reduce((n, t) => n + t.rows.length, 0);
  return `${workspace.size} table(s), ${rows} row(s)`;
}

const HUNT_SOURCES = ['loganalytics', 'splunk', 'qradar'] as const;
type HuntSourceName = (typeof HUNT_SOURCES)[number];

/**
 * Log Analytics needs an Azure sign-in (checked once, one line if missing); Splunk and QRadar hunt
 * with their own tokens, so Azure is only asked for when something Azure is configured (state in
 * Table Storage by identity); otherwise a credential that says why it is not needed.
 */
async function credentialFor(config: Config, io: CliIo): Promise<TokenCredential> {
  if (config.HUNT_SOURCE === 'loganalytics') {
    requireSettings(config, 'certsoar hunt against Log Analytics (or use --offline / --workspace DIR / --source)', ['LOG_ANALYTICS_WORKSPACE_ID']);
    return signedInCredential(io, scopeForEndpoint(config.LOG_ANALYTICS_ENDPOINT), 'Log Analytics');
  }
  if (config.STATE_STORAGE_CONNECTION__tableServiceUri) return signedInCredential(io, 'https://storage.azure.com/.default', 'Table Storage');
  return io.credential ?? {
    getToken: () => Promise.reject(new CliError(`hunting ${config.HUNT_SOURCE} needs no Azure sign-in; nothing Azure is configured`)),
  };
}

function describeSource(config: Config): string {
  const host = (url: string | undefined) => (url ? new URL(url).host : '?');
  if (config.HUNT_SOURCE === 'splunk') return `Splunk ${host(config.SPLUNK_URL)}`;
  if (config.HUNT_SOURCE === 'qradar') return `QRadar ${host(config.QRADAR_URL)}`;
  return `Log Analytics workspace ${config.LOG_ANALYTICS_WORKSPACE_ID}`;
}
