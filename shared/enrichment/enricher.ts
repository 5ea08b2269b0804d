import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { CertsoarError } from '../errors.js';
import type { CtHistory, Enrichment, Hit, MissingEnrichment, TlsProbeResult } from '../model.js';
import { OBSERVABLE_DETECTION_ID } from '../observables.js';
import { errorMessage } from '../redact.js';
import { DEFAULT_TUNING } from '../scoring/tuning.js';
import { CRTSH_CACHE_TABLE, type CtCacheStore, TableCtCache } from '../state/crtsh-cache.js';
import { storageClients } from '../state/storage.js';
import { certificateAge, eventTimeOf } from './certificate-age.js';
import { type CrtshClient, type CtCertificate, createCrtshClient } from './crtsh-client.js';
import { type CompactHistory, type CtMatch, cnOf, ctHistoryFeatures, matchCertificate } from './ct-history.js';
import { createCtLookups } from './ct-lookups.js';
import { ctPresence } from './ct-presence.js';
import { registrableDomain } from './registrable-domain.js';
import { ProbeRefusedError, type TlsProbe, createTlsProbe } from './tls-probe.js';

/**
 * Enrichment of one hit: crt.sh history of its registrable domain and of the other registrable
 * domains its certificate names, a fingerprint lookup of its certificate, a live TLS probe where
 * allowed, and the certificate's age from the best source.
 * Never throws because a source failed: the failure is listed in `missing` (retryable when a
 * later run could succeed) and the rest of the enrichment stands.
 */
export interface Enricher {
  /** signal: the request's deadline; crt.sh lookups still running then stop, and the enrichment lists them as missing. */
  enrich(hit: Hit, options?: { signal?: AbortSignal }): Promise<Enrichment>;
}

export interface EnricherDeps {
  /** undefined: crt.sh lookups are off (reported as missing, not retryable). */
  crtsh?: CrtshClient;
  /** Shared cache behind the in-memory LRU (Table Storage in production). */
  cache?: CtCacheStore;
  cacheTtlMs?: number;
  /** undefined: no live probe at all. */
  probe?: TlsProbe;
  /**
   * Probe the destination of hunt hits too (TLS_PROBE_ENABLED=true). Off by default: connecting to
   * a hit's destination from the organisation's egress address can tip off whoever runs it. A
   * host:port someone asked for explicitly (bare observable) is probed either way.
   */
  probeHuntHits?: boolean;
  now?: () => Date;
  /** tuning.enrichment.freeAcmeIssuers. */
  freeAcmeIssuers?: readonly string[];
  lruEntries?: number;
}

export function createEnricher(deps: EnricherDeps): Enricher {
  const now = deps.now ?? (() => new Date());
  const lookups = deps.crtsh
    ? createCtLookups({
        client: deps.crtsh,
        ...(deps.cache ? { store: deps.cache } : {}),
        ttlMs: deps.cacheTtlMs ?? 86_400_000,
        ...(deps.lruEntries ? { lruEntries: deps.lruEntries } : {}),
        now: () => now().getTime(),
      })
    : undefined;
  const freeAcme = deps.freeAcmeIssuers ?? DEFAULT_TUNING.enrichment.freeAcmeIssuers;
  return {
    async enrich(hit, options = {}) {
      const at = now();
      const plan = planLookups(hit, deps);
      const results = await runLookups(plan, lookups, deps.probe, options.signal);
      const missing = lookupFailures(plan, results, lookups !== undefined);
      const ct = ctFromResults(hit, results, { now: at, freeAcmeIssuers: freeAcme });
      const presence = ctPresence(hit, { ...(ct.ct ? { ct: ct.ct } : {}), ctOtherDomains: ct.others, ...(ct.certificate ? { ctCertificate: ct.certificate } : {}), missing });
      const tlsProbe = probeOutcome(results.probe, missing);
      const age = dateCertificate(hit, plan, { match: ct.match, ctCertificate: ct.certificate, tlsProbe }, at, missing);
      return {
        ...(ct.ct ? { ct: ct.ct } : {}),
        ...(ct.others.length > 0 ? { ctOtherDomains: ct.others } : {}),
        ...(presence.inCt !== undefined ? { certificateInCt: presence.inCt } : {}),
        ...(presence.foundIn.length > 0 ? { certificateFoundIn: presence.foundIn } : {}),
        ...(ct.certificate ? { ctCertificate: ct.certificate } : {}),
        ...(age ? { certificateAge: age } : {}),
        ...(tlsProbe ? { tlsProbe } : {}),
        missing,
        enrichedAt: at.toISOString(),
      };
    },
  };
}

type Lookups = NonNullable<ReturnType<typeof createCtLookups>>;

interface LookupPlan {
  domain: string | undefined;
  otherDomains: string[];
  skippedDomains: string[];
  fingerprint: { kind: 'sha256' | 'sha1'; hex: string } | undefined;
  probe: { host: string; port: number } | undefined;
}

/** What to look up for a hit: its domain, the other domains its certificate names, its fingerprint, and a probe where allowed. */
function planLookups(hit: Hit, deps: EnricherDeps): LookupPlan {
  const domain = domainOf(hit);
  const { others, skipped } = otherCertificateDomains(hit, domain);
  const c = hit.certificate;
  const fingerprint = c?.sha256 ? ({ kind: 'sha256', hex: c.sha256 } as const) : c?.sha1 ? ({ kind: 'sha1', hex: c.sha1 } as const) : undefined;
  const target = probeTarget(hit);
  const probeAllowed = deps.probeHuntHits === true || isRequestedHostPort(hit);
  return { domain, otherDomains: others, skippedDomains: skipped, fingerprint, probe: target && probeAllowed ? target : undefined };
}

async function runLookups(plan: LookupPlan, lookups: Lookups | undefined, probe: TlsProbe | undefined, signal: AbortSignal | undefined) {
  const [history, others, certificate, probed] = await Promise.all([
    lookups && plan.domain ? settle(lookups.history(plan.domain, signal)) : undefined,
    lookups ? Promise.all(plan.otherDomains.map((d) => settle(lookups.history(d, signal)))) : [],
    lookups && plan.fingerprint ? settle(lookups.certificate(plan.fingerprint.kind, plan.fingerprint.hex, signal)) : undefined,
    probe && plan.probe ? settle(probe(plan.probe.host, plan.probe.port)) : undefined,
  ]);
  return { history, others, certificate, probe: probed };
}

type LookupResults = Awaited<ReturnType<typeof runLookups>>;

/** Every crt.sh lookup that could not be made or failed, as missing enrichment. */
function lookupFailures(plan: LookupPlan, r: LookupResults, configured: boolean): MissingEnrichment[] {
  const missing: MissingEnrichment[] = [];
  if (!configured) {
    if (plan.domain || plan.fingerprint) missing.push({ source: 'crtsh', reason: 'crt.sh lookups are not configured', retryable: false });
  } else if (!plan.domain && !plan.fingerprint) {
    missing.push({ source: 'crtsh', reason: 'the hit names no registrable domain and no certificate fingerprint', retryable: false });
  }
  if (r.history && !r.history.ok) missing.push(crtshMissing(r.history.error));
  r.others.forEach((o, i) => {
    if (!o.ok) missing.push(crtshMissing(o.error, plan.otherDomains[i]));
  });
  if (r.certificate && !r.certificate.ok) missing.push(crtshMissing(r.certificate.error));
  if (configured && plan.skippedDomains.length > 0) {
    const shown = plan.skippedDomains.slice(0, 3).join(', ') + (plan.skippedDomains.length > 3 ? ', …' : '');
    const reason = `the certificate names ${plan.skippedDomains.length} more registrable domain(s) than the ${MAX_CT_DOMAINS_PER_HIT} looked up per hit (${shown})`;
    missing.push({ source: 'crtsh', reason, retryable: false });
  }
  return missing;
}

/** CT features of every history found, the first history that holds the hit's certificate, and the fingerprint lookup's certificate. */
function ctFromResults(hit: Hit, r: LookupResults, options: { now: Date; freeAcmeIssuers: readonly string[] }) {
  const features = (history: CompactHistory, source: CtHistory['source']) =>
    ctHistoryFeatures(history, { now: options.now, freeAcmeIssuers: options.freeAcmeIssuers, ...(hit.certificate ? { certificate: hit.certificate } : {}), source });
  let match: CtMatch | null | undefined;
  const considerMatch = (history: CompactHistory) => {
    if (!hit.certificate || match) return;
    const m = matchCertificate(history, hit.certificate);
    if (m !== undefined) match = m;
  };
  let ct: CtHistory | undefined;
  if (r.history?.ok) {
    ct = features(r.history.value.history, r.history.value.source);
    considerMatch(r.history.value.history);
  }
  const others: CtHistory[] = [];
  for (const o of r.others) {
    if (!o.ok) continue;
    others.push(features(o.value.history, o.value.source));
    considerMatch(o.value.history);
  }
  const certificate: CtCertificate | undefined = r.certificate?.ok ? r.certificate.value.certificate : undefined;
  return { ct, others, match, certificate };
}

function probeOutcome(probed: LookupResults['probe'], missing: MissingEnrichment[]): TlsProbeResult | undefined {
  if (probed?.ok) return probed.value;
  if (probed && !probed.ok) missing.push({ source: 'tls_probe', reason: errorMessage(probed.error), retryable: !(probed.error instanceof ProbeRefusedError) });
  return undefined;
}

/** The certificate's age from the best source; when none dated it, why (retryable when a source that might have is missing). */
function dateCertificate(
  hit: Hit,
  plan: LookupPlan,
  found: { match: CtMatch | null | undefined; ctCertificate: CtCertificate | undefined; tlsProbe: TlsProbeResult | undefined },
  at: Date,
  missing: MissingEnrichment[],
) {
  // Measured at the event time (the threat's first row), not at the hunt's clock.
  const age = certificateAge(eventTimeOf(hit, at), {
    ...(hit.certificate ? { log: hit.certificate } : {}),
    ...(found.match !== undefined ? { ct: found.match } : {}),
    ...(found.ctCertificate ? { ctCertificate: found.ctCertificate } : {}),
    ...(found.tlsProbe ? { probe: found.tlsProbe } : {}),
  });
  if (!age && (hit.certificate || probeTarget(hit) || plan.fingerprint)) {
    const failedRetryably = missing.some((m) => m.retryable);
    missing.push({
      source: 'certificate_age',
      reason: failedRetryably ? 'no source could date the certificate: a source that might have is missing' : 'neither the log, CT nor a probe dated the certificate',
      retryable: failedRetryably,
    });
  }
  return age;
}

/** The registrable domain a hit is about: destination host, then the certificate's names, then other domains. */
export function domainOf(hit: Hit): string | undefined {
  const c = hit.certificate;
  const candidates = [
    hit.entities.destinationHost,
    c?.subjectCommonName ?? cnOf(c?.subject),
    ...(c?.sans ?? []),
    ...hit.entities.domains,
    hostOfUrl(hit.entities.url),
  ];
  for (const name of candidates) {
    const domain = registrableDomain(name);
    if (domain) return domain;
  }
  return undefined;
}

/** Registrable domains looked up per hit at most (the primary one included): crt.sh is a shared public service. */
export const MAX_CT_DOMAINS_PER_HIT = 5;

/**
 * The registrable domains the hit's certificate names (CN, SANs) besides the primary one, in
 * order, without repeats, at most MAX_CT_DOMAINS_PER_HIT - 1; the rest are returned as skipped.
 */
export function otherCertificateDomains(hit: Hit, primary: string | undefined): { others: string[]; skipped: string[] } {
  const c = hit.certificate;
  const names = [c?.subjectCommonName ?? cnOf(c?.subject), ...(c?.sans ?? [])];
  const distinct: string[] = [];
  for (const name of names) {
    const d = registrableDomain(name);
    if (d && d !== primary && !distinct.includes(d)) distinct.push(d);
  }
  const room = MAX_CT_DOMAINS_PER_HIT - (primary ? 1 : 0);
  return { others: distinct.slice(0, room), skipped: distinct.slice(room) };
}

/** A host:port someone asked for by name (POST /api/enrich {host, port}, certsoar enrich host:port), not a hunt hit's destination. */
export function isRequestedHostPort(hit: Hit): boolean {
  return hit.detectionId === OBSERVABLE_DETECTION_ID && hit.indicators.ObservableKind === 'hostport' && !hit.incident;
}

/** The primary lookup's failure reads as before; another domain's names the domain, for re-enrichment. */
function crtshMissing(error: unknown, domain?: string): MissingEnrichment {
  return { source: 'crtsh', reason: `${domain ? `CT history of ${domain}: ` : ''}${errorMessage(error)}`, retryable: isRetryable(error) };
}

function probeTarget(hit: Hit): { host: string; port: number } | undefined {
  const port = hit.entities.destinationPort;
  const host = hit.entities.destinationHost ?? hit.entities.destinationIp;
  return host && port ? { host, port } : undefined;
}

function hostOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function isRetryable(err: unknown): boolean {
  if (err instanceof CertsoarError) return err.kind === 'upstream_unavailable' || err.kind === 'rate_limited';
  return true;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The enricher the app, the CLI and the offline demo use, built from settings. */
export function enricherFromConfig(
  config: Config,
  credential?: TokenCredential,
  options: { freeAcmeIssuers?: readonly string[]; onCacheError?: (message: string) => void; now?: () => Date } = {},
): Enricher {
  const now = options.now ?? (() => new Date());
  const crtsh = createCrtshClient({
    baseUrl: config.CRTSH_BASE_URL,
    timeoutMs: config.CRTSH_TIMEOUT,
    concurrency: config.CRTSH_CONCURRENCY,
    ...(config.CRTSH_CONTACT ? { contact: config.CRTSH_CONTACT } : {}),
    maxWireBytes: config.CRTSH_MAX_WIRE_BYTES,
    maxResponseBytes: config.CRTSH_MAX_RESPONSE_BYTES,
    maxRecords: config.CRTSH_MAX_RECORDS,
    now,
  });
  const storage = storageClients(config, credential);
  const cache = storage ? new TableCtCache(storage.table(CRTSH_CACHE_TABLE), now, options.onCacheError) : undefined;
  // The probe exists for host:port asked for explicitly; TLS_PROBE_ENABLED adds hunt hits' destinations.
  const probe = createTlsProbe({ timeoutMs: config.TLS_PROBE_TIMEOUT, allowPrivate: config.TLS_PROBE_ALLOW_PRIVATE });
  return createEnricher({
    crtsh,
    ...(cache ? { cache } : {}),
    cacheTtlMs: config.CRTSH_CACHE_TTL,
    probe,
    probeHuntHits: config.TLS_PROBE_ENABLED,
    now,
    ...(options.freeAcmeIssuers ? { freeAcmeIssuers: options.freeAcmeIssuers } : {}),
  });
}
