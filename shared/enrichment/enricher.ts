import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { CertsoarError } from '../errors.js';
import type { CtHistory, Enrichment, Hit, MissingEnrichment, TlsProbeResult } from '../model.js';
import { errorMessage } from '../redact.js';
import { DEFAULT_TUNING } from '../scoring/tuning.js';
import { CRTSH_CACHE_TABLE, type CtCacheStore, TableCtCache } from '../state/crtsh-cache.js';
import { storageClients } from '../state/storage.js';
import { certificateAge } from './certificate-age.js';
import { type CrtshClient, type CtCertificate, createCrtshClient } from './crtsh-client.js';
import { type CtMatch, cnOf, ctHistoryFeatures, matchCertificate } from './ct-history.js';
import { createCtLookups } from './ct-lookups.js';
import { registrableDomain } from './registrable-domain.js';
import { ProbeRefusedError, type TlsProbe, createTlsProbe } from './tls-probe.js';

/**
 * Enrichment of one hit: crt.sh history of its registrable domain, a fingerprint lookup of its
 * certificate, an optional live TLS probe, and the certificate's age from the best source.
 * Never throws because a source failed: the failure is listed in `missing` (retryable when a
 * later run could succeed) and the rest of the enrichment stands.
 */
export interface Enricher {
  enrich(hit: Hit): Promise<Enrichment>;
}

export interface EnricherDeps {
  /** undefined: crt.sh lookups are off (reported as missing, not retryable). */
  crtsh?: CrtshClient;
  /** Shared cache behind the in-memory LRU (Table Storage in production). */
  cache?: CtCacheStore;
  cacheTtlMs?: number;
  /** undefined: no live probe (TLS_PROBE_ENABLED=false). */
  probe?: TlsProbe;
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
    async enrich(hit) {
      const at = now();
      const missing: MissingEnrichment[] = [];
      const domain = domainOf(hit);
      const fingerprint = hit.certificate?.sha256 ? ({ kind: 'sha256', hex: hit.certificate.sha256 } as const) : hit.certificate?.sha1 ? ({ kind: 'sha1', hex: hit.certificate.sha1 } as const) : undefined;
      const target = probeTarget(hit);

      const [historyResult, certResult, probeResult] = await Promise.all([
        lookups && domain ? settle(lookups.history(domain)) : undefined,
        lookups && fingerprint ? settle(lookups.certificate(fingerprint.kind, fingerprint.hex)) : undefined,
        deps.probe && target ? settle(deps.probe(target.host, target.port)) : undefined,
      ]);

      if (!lookups) {
        if (domain || fingerprint) missing.push({ source: 'crtsh', reason: 'crt.sh lookups are not configured', retryable: false });
      } else if (!domain && !fingerprint) {
        missing.push({ source: 'crtsh', reason: 'the hit names no registrable domain and no certificate fingerprint', retryable: false });
      }
      for (const r of [historyResult, certResult]) {
        if (r && !r.ok) missing.push({ source: 'crtsh', reason: errorMessage(r.error), retryable: isRetryable(r.error) });
      }

      let ct: CtHistory | undefined;
      let match: CtMatch | null | undefined;
      if (historyResult?.ok) {
        const { history, source } = historyResult.value;
        ct = ctHistoryFeatures(history, { now: at, freeAcmeIssuers: freeAcme, ...(hit.certificate ? { certificate: hit.certificate } : {}), source });
        match = hit.certificate ? matchCertificate(history, hit.certificate) : undefined;
      }
      const ctCertificate: CtCertificate | undefined = certResult?.ok ? certResult.value.certificate : undefined;
      if (ct && ctCertificate && (ct.certificateInCt === undefined || ctCertificate.found)) ct.certificateInCt = ctCertificate.found;

      let tlsProbe: TlsProbeResult | undefined;
      if (probeResult?.ok) tlsProbe = probeResult.value;
      else if (probeResult && !probeResult.ok) {
        missing.push({ source: 'tls_probe', reason: errorMessage(probeResult.error), retryable: !(probeResult.error instanceof ProbeRefusedError) });
      }

      const age = certificateAge(at, {
        ...(hit.certificate ? { log: hit.certificate } : {}),
        ...(match !== undefined ? { ct: match } : {}),
        ...(ctCertificate ? { ctCertificate } : {}),
        ...(tlsProbe ? { probe: tlsProbe } : {}),
      });
      if (!age && (hit.certificate || target || fingerprint)) {
        const failedRetryably = missing.some((m) => m.retryable);
        missing.push({
          source: 'certificate_age',
          reason: failedRetryably ? 'no source could date the certificate: a source that might have is missing' : 'neither the log, CT nor a probe dated the certificate',
          retryable: failedRetryably,
        });
      }

      return {
        ...(ct ? { ct } : {}),
        ...(ctCertificate ? { ctCertificate } : {}),
        ...(age ? { certificateAge: age } : {}),
        ...(tlsProbe ? { tlsProbe } : {}),
        missing,
        enrichedAt: at.toISOString(),
      };
    },
  };
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
    now,
  });
  const storage = storageClients(config, credential);
  const cache = storage ? new TableCtCache(storage.table(CRTSH_CACHE_TABLE), now, options.onCacheError) : undefined;
  const probe = config.TLS_PROBE_ENABLED ? createTlsProbe({ timeoutMs: config.TLS_PROBE_TIMEOUT, allowPrivate: config.TLS_PROBE_ALLOW_PRIVATE }) : undefined;
  return createEnricher({
    crtsh,
    ...(cache ? { cache } : {}),
    cacheTtlMs: config.CRTSH_CACHE_TTL,
    ...(probe ? { probe } : {}),
    now,
    ...(options.freeAcmeIssuers ? { freeAcmeIssuers: options.freeAcmeIssuers } : {}),
  });
}
