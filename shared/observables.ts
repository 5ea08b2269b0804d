import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { getDetection, hitFromRow } from './detections/index.js';
import { ValidationError, problemsFromZod } from './errors.js';
import type { Hit, IncidentRef, TlsProbeResult } from './model.js';
import type { Tuning } from './scoring/tuning.js';
import { fromSplunkAlert, isSplunkAlert } from './siem/splunk-alert.js';

/**
 * Parses what POST /api/enrich (and `certsoar enrich`) accept into hits:
 * - a Sentinel incident-trigger payload: one hit per enrichable related entity (DNS names from
 *   Host/DnsResolution/Url, certificate thumbprints from FileHash and from registry paths under
 *   SystemCertificates), each carrying the incident reference;
 * - a hunt hit `{detectionId, row}`: the detection's twin turns the row into a hit;
 * - a bare observable `{domain}`, `{sha1}`, `{sha256}` or `{host, port}`.
 * Observables become hits of the pseudo-detection "observable": no base signals, key
 * "<kind>:<value>" (prefixed by the incident id when they come from one), so they score on
 * enrichment signals alone and a repeated request gives the same finding id.
 */
export const OBSERVABLE_DETECTION_ID = 'observable';
/** At most this many observables per request: each may cost a crt.sh lookup. */
export const MAX_OBSERVABLES = 50;

export type Observable =
  | { kind: 'domain'; domain: string }
  | { kind: 'sha1'; sha1: string }
  | { kind: 'sha256'; sha256: string }
  | { kind: 'hostport'; host: string; port: number };

export interface ParsedRequest {
  hits: Hit[];
  /** Entities or rows that were understood but gave nothing to enrich, with why. */
  skipped: Array<{ path: string; reason: string }>;
}

const HOSTNAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\.?$/i;
const hostname = z.string().trim().regex(HOSTNAME, 'expected a DNS name such as www.example.com').transform((s) => s.toLowerCase().replace(/\.$/, ''));
const hex = (n: number) => z.string().trim().regex(new RegExp(`^(?:[0-9a-fA-F]{2}[:\\s-]?){${n - 1}}[0-9a-fA-F]{2}$`), `expected ${n * 2} hex digits`).transform((s) => s.replace(/[^0-9a-fA-F]/g, '').toLowerCase());
const port = z.union([z.number(), z.string().regex(/^\d+$/, 'expected a port number').transform(Number)]).pipe(z.number().int('expected a whole number').min(1).max(65535));
/** A single-label host name (an intranet server, `intranet:443`): probed, never looked up in CT. */
const SINGLE_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/i;
const hostOrIp = z
  .string()
  .trim()
  .transform((s) => s.replace(/^\[|\]$/g, '').toLowerCase())
  .refine((s) => isIP(s) !== 0 || HOSTNAME.test(s) || (SINGLE_LABEL.test(s) && !/^\d+$/.test(s)), 'expected a DNS name or an IP address');

const bareSchemas = {
  domain: z.object({ domain: hostname }).strict(),
  sha1: z.object({ sha1: hex(20) }).strict(),
  sha256: z.object({ sha256: hex(32) }).strict(),
  hostport: z.object({ host: hostOrIp, port }).strict(),
};

/**
 * A row cell as Log Analytics returns it: a scalar, or a dynamic column as its JSON text (the
 * query API sends dynamic values as strings). An object or array cell in a posted row becomes
 * that text here, so nothing downstream meets an object whose toString is not a function.
 */
const rowCell = z.union([z.string(), z.number(), z.boolean(), z.null()]).or(z.unknown().transform((v) => JSON.stringify(v) ?? null));
const columnName = z.string().refine((k) => k !== '__proto__', 'not a column name');
const huntHitSchema = z.object({ detectionId: z.string().min(1), row: z.record(columnName, rowCell) }).strict();

const entitySchema = z.object({ kind: z.string(), properties: z.record(z.string(), z.unknown()).default({}) }).loose();
const incidentSchema = z
  .object({
    object: z
      .object({
        id: z.string().optional(),
        properties: z
          .object({
            title: z.string().optional(),
            severity: z.string().optional(),
            incidentNumber: z.number().optional(),
            incidentUrl: z.string().optional(),
            relatedEntities: z.array(entitySchema).default([]),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

export function parseEnrichRequest(body: unknown, tuning: Tuning, now: Date = new Date()): ParsedRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('invalid request body', [{ path: '', message: 'expected a JSON object' }]);
  }
  const b = body as Record<string, unknown>;
  if ('object' in b) return fromIncident(b, now);
  if (isSplunkAlert(b)) return fromSplunk(b, tuning);
  if ('detectionId' in b || 'row' in b) return fromHuntHit(b, tuning);
  const kind = (['domain', 'sha1', 'sha256', 'host'] as const).find((k) => k in b);
  if (!kind) {
    throw new ValidationError('invalid request body', [
      { path: '', message: 'expected a Sentinel incident-trigger payload, a Splunk alert payload {sid, search_name, result, …}, a QRadar offense reference {offense_id}, {detectionId, row}, or one of {domain}, {sha1}, {sha256}, {host, port}' },
    ]);
  }
  const observable = parseObservable(b, kind === 'host' ? 'hostport' : kind);
  return { hits: [observableHit(observable, now)], skipped: [] };
}

function parseObservable(b: Record<string, unknown>, kind: Observable['kind']): Observable {
  const parsed = bareSchemas[kind].safeParse(b);
  if (!parsed.success) throw new ValidationError('invalid observable', problemsFromZod(parsed.error.issues));
  return { kind, ...parsed.data } as Observable;
}

function fromHuntHit(b: Record<string, unknown>, tuning: Tuning): ParsedRequest {
  const parsed = huntHitSchema.safeParse(b);
  if (!parsed.success) throw new ValidationError('invalid hunt hit', problemsFromZod(parsed.error.issues));
  const detection = getDetection(parsed.data.detectionId);
  const hit = hitFromRow(detection, parsed.data.row, tuning);
  return hit ? { hits: [hit], skipped: [] } : { hits: [], skipped: [{ path: 'row', reason: `the row is not a ${detection.meta.id} hit` }] };
}

/** A Splunk alert: the saved search names the detection, whose own signals judge the result row again. */
function fromSplunk(b: Record<string, unknown>, tuning: Tuning): ParsedRequest {
  const alert = fromSplunkAlert(b);
  const detection = getDetection(alert.detectionId);
  const hit = hitFromRow(detection, alert.row, tuning);
  if (!hit) return { hits: [], skipped: [{ path: 'result', reason: `the alert's result is not a ${detection.meta.id} hit` }] };
  const origin = alert.origin.kind === 'splunk' ? alert.origin : undefined;
  hit.incident = { siem: alert.origin, ...(origin ? { title: origin.searchName } : {}), ...(origin?.resultsLink ? { url: origin.resultsLink } : {}) };
  return { hits: [hit], skipped: [] };
}

function fromIncident(b: Record<string, unknown>, now: Date): ParsedRequest {
  const parsed = incidentSchema.safeParse(b);
  if (!parsed.success) throw new ValidationError('invalid Sentinel incident payload', problemsFromZod(parsed.error.issues));
  const props = parsed.data.object.properties;
  const incident: IncidentRef = {
    ...(parsed.data.object.id ? { armId: parsed.data.object.id } : {}),
    ...(props.incidentNumber !== undefined ? { incidentNumber: props.incidentNumber } : {}),
    ...(props.title ? { title: props.title } : {}),
    ...(props.severity ? { severity: props.severity } : {}),
    ...(props.incidentUrl ? { url: props.incidentUrl } : {}),
  };
  const skipped: ParsedRequest['skipped'] = [];
  const observables = new Map<string, Observable>();
  props.relatedEntities.forEach((entity, i) => {
    const path = `object.properties.relatedEntities[${i}]`;
    const found = observablesOfEntity(entity.kind, entity.properties);
    if (found.length === 0) skipped.push({ path, reason: `nothing to enrich in a ${entity.kind} entity` });
    for (const o of found) {
      if (observables.size >= MAX_OBSERVABLES) {
        skipped.push({ path, reason: `more than ${MAX_OBSERVABLES} observables; the rest are not enriched` });
        return;
      }
      observables.set(observableKey(o), o);
    }
  });
  return { hits: [...observables.values()].map((o) => observableHit(o, now, incident)), skipped };
}

const THUMBPRINT_PATH = /SystemCertificates\\([^\\]+)\\Certificates\\([0-9A-Fa-f]{40})\b/;

/** What one Sentinel entity offers for enrichment (property names as the incident trigger sends them). */
export function observablesOfEntity(kind: string, p: Record<string, unknown>): Observable[] {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const domain = (name: string | undefined): Observable[] => {
    const d = name ? hostname.safeParse(name) : undefined;
    return d?.success ? [{ kind: 'domain', domain: d.data.replace(/^\*\./, '') }] : [];
  };
  switch (kind.toLowerCase()) {
    case 'host': {
      const hostName = str(p.hostName);
      const dnsDomain = str(p.dnsDomain);
      return domain(hostName && dnsDomain ? `${hostName}.${dnsDomain}` : (str(p.fqdn) ?? hostName));
    }
    case 'dnsresolution':
    case 'dns':
      return domain(str(p.domainName));
    case 'url': {
      const url = str(p.url);
      try {
        return url ? domain(new URL(url).hostname) : [];
      } catch {
        return [];
      }
    }
    case 'filehash': {
      const algorithm = str(p.algorithm)?.toUpperCase();
      const value = str(p.hashValue);
      if (!value) return [];
      if (algorithm === 'SHA1' && hex(20).safeParse(value).success) return [{ kind: 'sha1', sha1: hex(20).parse(value) }];
      if (algorithm === 'SHA256' && hex(32).safeParse(value).success) return [{ kind: 'sha256', sha256: hex(32).parse(value) }];
      return [];
    }
    case 'registrykey':
    case 'registryvalue': {
      const text = Object.values(p).filter((v): v is string => typeof v === 'string').join('\\');
      const m = THUMBPRINT_PATH.exec(text);
      return m?.[2] ? [{ kind: 'sha1', sha1: m[2].toLowerCase() }] : [];
    }
    default:
      return [];
  }
}

function observableKey(o: Observable): string {
  switch (o.kind) {
    case 'domain':
      return `domain:${o.domain}`;
    case 'sha1':
      return `sha1:${o.sha1}`;
    case 'sha256':
      return `sha256:${o.sha256}`;
    case 'hostport':
      return `hostport:${o.host}:${o.port}`;
  }
}

/** A hit for a bare observable: no base signals, scored on enrichment alone. */
export function observableHit(o: Observable, now: Date, incident?: IncidentRef): Hit {
  const key = observableKey(o);
  const base = {
    detectionId: OBSERVABLE_DETECTION_ID,
    key: incident?.armId ? `${incident.armId}|${key}` : key,
    time: now.toISOString(),
    row: { ObservableKind: o.kind, Observable: key.slice(key.indexOf(':') + 1) },
    signals: [],
    indicators: { ObservableKind: o.kind },
    ...(incident ? { incident } : {}),
  };
  switch (o.kind) {
    case 'domain':
      return { ...base, entities: { destinationHost: o.domain, domains: [o.domain] } };
    case 'sha1':
      return { ...base, entities: { domains: [] }, certificate: { sha1: o.sha1 } };
    case 'sha256':
      return { ...base, entities: { domains: [] }, certificate: { sha256: o.sha256 } };
    case 'hostport': {
      const ip = isIP(o.host) !== 0;
      const ctName = !ip && o.host.includes('.');
      return {
        ...base,
        entities: { ...(ip ? { destinationIp: o.host } : { destinationHost: o.host }), destinationPort: o.port, domains: ctName ? [o.host] : [] },
      };
    }
  }
}

/**
 * `certsoar enrich` argument, as analysts paste it: a domain (Unicode look-alikes become
 * punycode), a SHA-1 or SHA-256, host:port or [v6]:port (single-label hosts too: probe only),
 * a bare IP address (probed on 443), or a URL (https: its host and port, probed; other schemes:
 * the host name).
 */
export function parseObservableArgument(text: string): Observable {
  const arg = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return fromUrl(arg);
  if (isIP(arg.replace(/^\[|\]$/g, '')) !== 0) return parseObservable({ host: arg, port: 443 }, 'hostport');
  const hostPort = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(arg);
  if (hostPort) return parseObservable({ host: asciiHost(hostPort[1]!), port: hostPort[2] }, 'hostport');
  if (/^[0-9a-f:]{40,}$/i.test(arg) && arg.replace(/:/g, '').length === 40) return parseObservable({ sha1: arg }, 'sha1');
  if (/^[0-9a-f:]{64,}$/i.test(arg) && arg.replace(/:/g, '').length === 64) return parseObservable({ sha256: arg }, 'sha256');
  return parseObservable({ domain: asciiHost(arg) }, 'domain');
}

function fromUrl(text: string): Observable {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError('invalid observable', [{ path: 'url', message: 'not a URL' }]);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'https:' || url.port !== '') return parseObservable({ host, port: url.port || 443 }, 'hostport');
  return isIP(host) !== 0 ? parseObservable({ host, port: 443 }, 'hostport') : parseObservable({ domain: host }, 'domain');
}

/** Internationalised names as DNS and CT know them (xn--…); an unconvertible name is kept for the error. */
function asciiHost(host: string): string {
  if (host.startsWith('[') || !/[^\p{ASCII}]/u.test(host)) return host;
  return domainToASCII(host) || host;
}

/**
 * A probed host:port observable with the probe's verdicts about the leaf certificate as base
 * signals, computed by the same T1608.003 twin a hunt uses (self-signed, names that do not
 * cover the host, placeholder CN), so the certificate scores alike whether a firewall logged it
 * or `certsoar enrich` probed it. Expiry is an enrichment signal (expired_certificate).
 */
export function withProbeVerdicts(hit: Hit, probe: TlsProbeResult | undefined, tuning: Tuning): Hit {
  const leaf = probe?.chain[0];
  if (hit.detectionId !== OBSERVABLE_DETECTION_ID || !probe || !leaf) return hit;
  const detection = getDetection('T1608.003');
  const row = {
    TimeGenerated: hit.time,
    DeviceVendor: 'certsoar',
    DeviceProduct: 'tls-probe',
    DeviceAction: 'allow',
    ...(isIP(probe.host) === 0 ? { DestinationHostName: probe.host } : {}),
    ...(probe.address ? { DestinationIP: probe.address } : {}),
    DestinationPort: probe.port,
    AdditionalExtensions: [`ssl_subject=${leaf.subject}`, `ssl_issuer=${leaf.issuer}`, ...(leaf.sans.length ? [`ssl_san=${leaf.sans.join(',')}`] : [])].map((kv) => kv.replace(/;/g, ',')).join(';'),
  };
  // The probed port is a TLS port by definition, whatever the hunt's tlsPorts list says.
  const params = (tuning.detections['T1608.003'] ?? {}) as Record<string, unknown>;
  const probeTuning: Tuning = { ...tuning, detections: { ...tuning.detections, 'T1608.003': { ...params, tlsPorts: [probe.port], minScore: 0 } } };
  const twin = hitFromRow(detection, row, probeTuning);
  if (!twin) return hit;
  return {
    ...hit,
    signals: twin.signals.map((s) => ({ ...s, reason: `live probe: ${s.reason}` })),
    indicators: { ...twin.indicators, ...hit.indicators },
    ...(twin.certificate ? { certificate: { ...twin.certificate, ...hit.certificate, selfSigned: probe.selfSigned || twin.certificate.selfSigned === true } } : {}),
  };
}
