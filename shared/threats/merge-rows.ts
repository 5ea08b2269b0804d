import { createHash } from 'node:crypto';
import type { Hit, SourceCount, ThreatAggregate, ThreatSources } from '../model.js';
import type { HitGroup } from './group-hits.js';
import { sourcesOf } from './threat-key.js';

/**
 * The merge of a threat's rows: how many, first and last event time, distinct sources with counts,
 * and a digest of the rows (so the same rows sent twice are recognised). Also the merge of such a
 * summary into what an earlier report of the threat already said.
 */

/** Sources listed per kind; the rest are counted in hostsOmitted/accountsOmitted (queue messages stay small). */
export const MAX_LISTED_SOURCES = 50;

export type RowsSummary = Omit<ThreatAggregate, 'id' | 'update'>;

export function summarizeGroup(group: HitGroup): RowsSummary {
  const hosts = new Map<string, number>();
  const accounts = new Map<string, number>();
  let first = Infinity;
  let last = -Infinity;
  const keys: string[] = [];
  for (const hit of group.hits) {
    const t = Date.parse(hit.time);
    if (!Number.isNaN(t)) {
      if (t < first) first = t;
      if (t > last) last = t;
    }
    const s = sourcesOf(hit);
    if (s.host) hosts.set(s.host, (hosts.get(s.host) ?? 0) + 1);
    if (s.account) accounts.set(s.account, (accounts.get(s.account) ?? 0) + 1);
    keys.push(`${hit.detectionId}\u0000${hit.key}`);
  }
  const fallback = group.representative.time;
  return {
    key: group.identity.key,
    occurrences: group.hits.length,
    firstSeen: Number.isFinite(first) ? new Date(first).toISOString() : fallback,
    lastSeen: Number.isFinite(last) ? new Date(last).toISOString() : fallback,
    sources: capSources(hosts, accounts, 0, 0),
    withoutCertificate: group.withoutCertificate,
    rowsDigest: digest(keys),
  };
}

/** The summary of a single hit (a finding that stands for one row). */
export function summarizeHit(hit: Hit, key: string): RowsSummary {
  return summarizeGroup({ identity: { key }, representative: hit, hits: [hit], withoutCertificate: 0, fromState: false });
}

/** Sources of two reports of one threat added up. */
export function mergeSources(a: ThreatSources, b: ThreatSources): ThreatSources {
  const hosts = new Map(a.hosts.map((s) => [s.name, s.count]));
  for (const s of b.hosts) hosts.set(s.name, (hosts.get(s.name) ?? 0) + s.count);
  const accounts = new Map(a.accounts.map((s) => [s.name, s.count]));
  for (const s of b.accounts) accounts.set(s.name, (accounts.get(s.name) ?? 0) + s.count);
  return capSources(hosts, accounts, a.hostsOmitted + b.hostsOmitted, a.accountsOmitted + b.accountsOmitted);
}

/** Hosts and accounts of `next` that `previous` did not list (an omitted one may count as new). */
export function newSourceNames(previous: ThreatSources, next: ThreatSources): string[] {
  const known = new Set([...previous.hosts, ...previous.accounts].map((s) => s.name.toLowerCase()));
  return [...next.hosts, ...next.accounts].map((s) => s.name).filter((n) => !known.has(n.toLowerCase()));
}

/** The threat's incident id: its key and the first event time of its active period. */
export function threatId(detectionId: string, key: string, periodStart: string): string {
  return createHash('sha256').update(`${detectionId}\u0000${key}\u0000${periodStart}`).digest('hex').slice(0, 32);
}

export function emptySources(): ThreatSources {
  return { hosts: [], accounts: [], hostsOmitted: 0, accountsOmitted: 0 };
}

function capSources(hosts: Map<string, number>, accounts: Map<string, number>, hostsOmitted: number, accountsOmitted: number): ThreatSources {
  const h = ranked(hosts);
  const a = ranked(accounts);
  return {
    hosts: h.slice(0, MAX_LISTED_SOURCES),
    accounts: a.slice(0, MAX_LISTED_SOURCES),
    hostsOmitted: hostsOmitted + Math.max(0, h.length - MAX_LISTED_SOURCES),
    accountsOmitted: accountsOmitted + Math.max(0, a.length - MAX_LISTED_SOURCES),
  };
}

function ranked(counts: Map<string, number>): SourceCount[] {
  return [...counts].map(([name, count]) => ({ name, count })).sort((x, y) => y.count - x.count || x.name.localeCompare(y.name));
}

function digest(keys: string[]): string {
  const hash = createHash('sha256');
  for (const k of keys.sort()) hash.update(k).update('\u0001');
  return hash.digest('hex').slice(0, 32);
}
