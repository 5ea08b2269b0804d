import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import type { Enricher } from '../shared/enrichment/enricher.js';
import { PayloadTooLargeError } from '../shared/errors.js';
import type { Finding } from '../shared/model.js';
import type { Tuning } from '../shared/scoring/tuning.js';
import { errorMessage } from '../shared/redact.js';
import { QUEUE_NAMES } from '../shared/state/queue-encoding.js';
import { errorResponse, json } from './lib/http-response.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';
import type { QradarIntake } from '../shared/siem/qradar-intake.js';

/**
 * POST /api/enrich: a Sentinel incident-trigger payload, a hunt hit {detectionId, row}, or a bare
 * observable → {findings, skipped, partial?}. crt.sh being down never fails the request: each finding
 * lists what is missing and is scored without it. The body is bounded in bytes and nesting before
 * it is parsed; the whole request in time (ENRICH_DEADLINE, below the 230 s Azure allows).
 */
export interface EnrichDeps {
  enricher: Enricher;
  tuning: Tuning;
  maxBodyBytes: number;
  /** ENRICH_MAX_JSON_DEPTH */
  maxJsonDepth: number;
  /** ENRICH_DEADLINE */
  deadlineMs: number;
  /** Reads QRadar offenses for `{offense_id}` requests, when QRadar is configured. */
  qradar?: QradarIntake;
  /** The "findings" queue, when state storage is configured: findings from an incident go there for write-back. */
  findings?: QueueClient;
  now?: () => Date;
}

export function makeEnrichHandler(getDeps: () => EnrichDeps | Promise<EnrichDeps>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const deps = await getDeps();
      const text = await readBody(request, deps.maxBodyBytes);
      const { enrichRequest } = await import('../shared/enrich-request.js');
      const { findings, skipped, partial } = await enrichRequest(text, deps);
      if (partial) context.warn(`enrich: the ${deps.deadlineMs} ms deadline passed; answering partial findings`);
      const missing = findings.flatMap((f) => f.enrichment.missing.filter((m) => m.retryable));
      if (missing.length > 0) context.warn(`enrich: ${missing.length} enrichment(s) missing, retryable: ${[...new Set(missing.map((m) => m.source))].join(', ')}`);
      const writeBack = await queueForWriteBack(findings, deps.findings, context);
      return json(200, { findings, skipped, ...(partial ? { partial: true } : {}), ...(writeBack ? { writeBack } : {}) });
    } catch (err) {
      return errorResponse(err, context);
    }
  };
}

/**
 * Findings from a Sentinel incident (the automation-rule path) go to the "findings" queue, where
 * deliver comments on the incident and raises its severity. The caller still gets its findings
 * when the queue is down; the answer says which were not queued, so the playbook can retry.
 */
async function queueForWriteBack(findings: Finding[], queue: QueueClient | undefined, context: InvocationContext): Promise<{ queued: number; failed: number } | undefined> {
  const fromIncident = findings.filter((f) => f.hit.incident?.armId);
  if (!queue || fromIncident.length === 0) return undefined;
  const [{ enqueueFinding }, { describeDeadLetter }] = await Promise.all([import('../shared/state/findings-queue.js'), import('../shared/state/queue-message.js')]);
  let failed = 0;
  for (const finding of fromIncident) {
    try {
      const dead = await enqueueFinding(queue, finding);
      if (dead) throw new Error(describeDeadLetter(dead));
    } catch (err) {
      failed += 1;
      context.warn(`enrich: finding ${finding.id} not queued for incident write-back: ${errorMessage(err)}`);
    }
  }
  return { queued: fromIncident.length - failed, failed };
}

/** Reads at most limit bytes: content-length is checked first, then the bytes actually received. */
export async function readBody(request: HttpRequest, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError(limit, declared);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(limit, total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const depsFromSettings = buildOnce(async (): Promise<EnrichDeps> => {
  const [{ loadConfig }, { enricherFromConfig }, { tuningFromConfig }, { storageClients }, { qradarHttp }, { qradarIntake }] = await Promise.all([
    import('../shared/config.js'),
    import('../shared/enrichment/enricher.js'),
    import('../shared/scoring/tuning.js'),
    import('../shared/state/storage.js'),
    import('../shared/siem/connections.js'),
    import('../shared/siem/qradar-intake.js'),
  ]);
  const config = loadConfig();
  const tuning = tuningFromConfig(config);
  const credential = await appCredential();
  const storage = storageClients(config, credential);
  const qradar = qradarHttp(config);
  return {
    enricher: enricherFromConfig(config, credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers }),
    tuning,
    maxBodyBytes: config.ENRICH_MAX_BODY_BYTES,
    maxJsonDepth: config.ENRICH_MAX_JSON_DEPTH,
    deadlineMs: config.ENRICH_DEADLINE,
    ...(storage ? { findings: storage.queue(QUEUE_NAMES.findings) } : {}),
    ...(qradar ? { qradar: qradarIntake(qradar) } : {}),
  };
});

app.http('enrich', { methods: ['POST'], authLevel: 'function', route: 'enrich', handler: makeEnrichHandler(depsFromSettings) });
