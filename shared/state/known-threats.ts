import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { Hit, Row, ThreatAggregate, ThreatSources } from '../model.js';
import { ensureTable, statusOf, tableKey } from './storage.js';

/**
 * Known threats, in Table Storage (table `knownthreats`) or in memory:
 * - one entity per threat (detection + threat key): its current incident id, totals, event times,
 *   sources, the hit it was reported on, and the last few row digests applied (a redelivered group
 *   of rows gets the same answer instead of being counted twice);
 * - one entity per TLS endpoint (IP:port) that presented a suspicious certificate: which threats it
 *   belongs to and when each was last seen, so a later session to it without a certificate (resumed
 *   TLS) is attributed to its threat (kept THREAT_ENDPOINT_LOOKBACK after the last row).
 *
 * A scope separates runners, as for the hunt state: 'functions' for the timers, 'cli' for the CLI.
 * Threat writes are conditional (ETag); a conflict is retried by the caller from a fresh read.
 */

export const KNOWN_THREATS_TABLE = 'knownthreats';

export interface AppliedRows {
  digest: string;
  aggregate: ThreatAggregate;
}

export interface KnownThreat {
  detectionId: string;
  key: string;
  /** Incident id of the current active period. */
  id: string;
  firstSeen: string;
  lastSeen: string;
  occurrences: number;
  withoutCertificate: number;
  sources: ThreatSources;
  firstReportedAt: string;
  /** Strongest base score of the rows reported so far (a stronger one is a material change). */
  maxBasePoints: number;
  /** The hit the threat was reported on (long row cells cut). */
  representative: Hit;
  endpoint?: string;
  serverName?: string;
  /** The last row groups applied, oldest first. */
  applied: AppliedRows[];
}

export interface EndpointEntry {
  detectionId: string;
  key: string;
  serverName?: string;
  lastSeen: string;
}

export interface StoredThreat {
  threat: KnownThreat;
  version?: string;
}

export interface KnownThreatStore {
  get(detectionId: string, key: string): Promise<StoredThreat | undefined>;
  /** Writes the threat if it is still at `version` (undefined: if it does not exist); else KnownThreatConflictError. */
  put(threat: KnownThreat, version: string | undefined): Promise<void>;
  endpointThreats(endpoint: string): Promise<EndpointEntry[]>;
  /** Adds or refreshes the entries for (endpoint, threat); entries last seen before `forgetBefore` are dropped. */
  rememberEndpoint(endpoint: string, entries: readonly EndpointEntry[], forgetBefore: Date): Promise<void>;
}

export class KnownThreatConflictError extends Error {
  constructor(readonly key: string) {
    super(`known threat "${key}" was changed by another runner`);
    this.name = 'KnownThreatConflictError';
  }
}

/** Most applied row groups remembered per threat. */
const MAX_APPLIED = 3;
/** Most threats remembered per endpoint. */
const MAX_ENDPOINT_ENTRIES = 20;
/** A Table string property holds 64 KiB: 32,768 UTF-16 characters. Stay under it. */
const MAX_PROPERTY_CHARS = 30_000;

export class MemoryKnownThreats implements KnownThreatStore {
  private readonly threats = new Map<string, { json: string; version: number }>();
  private readonly endpoints = new Map<string, EndpointEntry[]>();

  async get(detectionId: string, key: string): Promise<StoredThreat | undefined> {
    const found = this.threats.get(threatRowKey(detectionId, key));
    return found ? { threat: JSON.parse(found.json) as KnownThreat, version: String(found.version) } : undefined;
  }

  async put(threat: KnownThreat, version: string | undefined): Promise<void> {
    const id = threatRowKey(threat.detectionId, threat.key);
    const current = this.threats.get(id);
    if ((current ? String(current.version) : undefined) !== version) throw new KnownThreatConflictError(threat.key);
    this.threats.set(id, { json: JSON.stringify(threat), version: (current?.version ?? 0) + 1 });
  }

  async endpointThreats(endpoint: string): Promise<EndpointEntry[]> {
    return [...(this.endpoints.get(endpoint) ?? [])];
  }

  async rememberEndpoint(endpoint: string, entries: readonly EndpointEntry[], forgetBefore: Date): Promise<void> {
    this.endpoints.set(endpoint, mergeEntries(this.endpoints.get(endpoint) ?? [], entries, forgetBefore));
  }
}

interface ThreatEntity {
  partitionKey: string;
  rowKey: string;
  detectionId: string;
  data: string;
}

interface EndpointEntity {
  partitionKey: string;
  rowKey: string;
  endpoint: string;
  entries: string;
}

export class TableKnownThreats implements KnownThreatStore {
  constructor(
    private readonly table: TableClient,
    private readonly scope: string,
  ) {}

  async get(detectionId: string, key: string): Promise<StoredThreat | undefined> {
    const table = await ensureTable(this.table);
    try {
      const e = await table.getEntity<ThreatEntity>(`${this.scope}-threat`, threatRowKey(detectionId, key));
      return { threat: JSON.parse(e.data) as KnownThreat, ...(e.etag ? { version: e.etag } : {}) };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async put(threat: KnownThreat, version: string | undefined): Promise<void> {
    const table = await ensureTable(this.table);
    const entity: ThreatEntity = {
      partitionKey: `${this.scope}-threat`,
      rowKey: threatRowKey(threat.detectionId, threat.key),
      detectionId: threat.detectionId,
      data: JSON.stringify(fitThreat(threat)),
    };
    try {
      if (version === undefined) await table.createEntity(entity);
      else await table.updateEntity(entity, 'Replace', { etag: version });
    } catch (err) {
      const status = statusOf(err);
      if (status === 409 || status === 412) throw new KnownThreatConflictError(threat.key);
      throw err;
    }
  }

  async endpointThreats(endpoint: string): Promise<EndpointEntry[]> {
    const table = await ensureTable(this.table);
    try {
      const e = await table.getEntity<EndpointEntity>(`${this.scope}-endpoint`, tableKey(endpoint));
      return JSON.parse(e.entries) as EndpointEntry[];
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
  }

  async rememberEndpoint(endpoint: string, added: readonly EndpointEntry[], forgetBefore: Date): Promise<void> {
    // One writer per detection (the timer is a singleton), one call per endpoint per batch; a lost
    // race with the CLI's scope cannot happen (scopes are separate partitions).
    const entries = mergeEntries(await this.endpointThreats(endpoint), added, forgetBefore);
    const table = await ensureTable(this.table);
    const entity: EndpointEntity = { partitionKey: `${this.scope}-endpoint`, rowKey: tableKey(endpoint), endpoint, entries: JSON.stringify(entries) };
    await table.upsertEntity(entity, 'Replace');
  }
}

function threatRowKey(detectionId: string, key: string): string {
  return createHash('sha256').update(`${detectionId}\u0000${key}`).digest('hex');
}

function mergeEntries(entries: readonly EndpointEntry[], added: readonly EndpointEntry[], forgetBefore: Date): EndpointEntry[] {
  const byThreat = new Map<string, EndpointEntry>();
  for (const e of [...entries, ...added]) {
    const id = `${e.detectionId}\u0000${e.key}`;
    const known = byThreat.get(id);
    if (!known || Date.parse(e.lastSeen) >= Date.parse(known.lastSeen)) byThreat.set(id, e);
  }
  return [...byThreat.values()]
    .filter((e) => Date.parse(e.lastSeen) >= forgetBefore.getTime())
    .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen))
    .slice(0, MAX_ENDPOINT_ENTRIES);
}

/** Keeps the stored JSON inside one Table property: fewer applied groups, then a shorter row. */
export function fitThreat(threat: KnownThreat): KnownThreat {
  let fitted: KnownThreat = { ...threat, applied: threat.applied.slice(-MAX_APPLIED) };
  if (JSON.stringify(fitted).length <= MAX_PROPERTY_CHARS) return fitted;
  fitted = { ...fitted, representative: { ...fitted.representative, row: cutRow(fitted.representative.row, 256) } };
  if (JSON.stringify(fitted).length <= MAX_PROPERTY_CHARS) return fitted;
  fitted = { ...fitted, applied: fitted.applied.slice(-1) };
  if (JSON.stringify(fitted).length <= MAX_PROPERTY_CHARS) return fitted;
  return { ...fitted, applied: [], representative: { ...fitted.representative, row: { _note: 'row dropped to fit the known-threats table' } } };
}

function cutRow(row: Row, limit: number): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'string' && v.length > limit ? `${v.slice(0, limit)}…` : v;
  return out;
}
