import type { Hit } from '../model.js';
import { isSessionWithoutCertificate, type ThreatIdentity, endpointOf, serverNameOf, threatIdentity } from './threat-key.js';

/**
 * Hits → threats: one group per threat identity (shared/threats/threat-key.ts) and active period.
 * Rows of one identity further apart (by event time) than the quiet period are two threats, as
 * they would be two incidents had they arrived in two hunts.
 *
 * T1608.003 sessions without a certificate go to the threat of their endpoint (IP:port): a group
 * of this batch (one whose SNI matches theirs first, then the nearest in time), else a threat the
 * state remembers for the endpoint, seen within the endpoint lookback before the session. A
 * session that matches neither is not a finding: nothing suspicious was ever seen on its endpoint.
 */

/** A threat the state remembers for a TLS endpoint (shared/state/known-threats.ts). */
export interface EndpointThreat {
  key: string;
  serverName?: string;
  /** Event time of the threat's last row (ISO). */
  lastSeen: string;
  /** The hit the threat was reported on; certificate-less sessions are scored on it. */
  representative: Hit;
}

export interface HitGroup {
  identity: ThreatIdentity;
  /** The hit the threat is scored and shown on: its strongest row with a certificate (earliest on a tie). */
  representative: Hit;
  /** Every hit of the group, the representative included, oldest first. */
  hits: Hit[];
  /** Hits attributed to the threat without a certificate of their own. */
  withoutCertificate: number;
  /** True when the representative came from the state (the batch had only certificate-less sessions). */
  fromState: boolean;
}

export interface GroupOptions {
  quietMs: number;
  endpointLookbackMs: number;
  /**
   * Whether a tuning suppression matches a row. The threat is shown on a row it does not match when
   * there is one, so a threat is suppressed only when every row of it is (a C2 that a dev host and a
   * finance workstation both contact is not suppressed by the dev-host rule).
   */
  isSuppressed?: (hit: Hit) => boolean;
  /** Threats the state remembers, by endpoint ("ip:port"). */
  knownEndpoints?: ReadonlyMap<string, readonly EndpointThreat[]>;
}

export interface GroupResult {
  groups: HitGroup[];
  /** Certificate-less sessions to endpoints where no suspicious certificate was seen. */
  unattributed: Hit[];
}

const timeOf = (h: Hit) => Date.parse(h.time) || 0;
const basePoints = (h: Hit) => h.signals.reduce((s, x) => s + x.points, 0);

export function groupHits(hits: readonly Hit[], options: GroupOptions): GroupResult {
  const withCertificate: Hit[] = [];
  const withoutCertificate: Hit[] = [];
  for (const h of hits) (isSessionWithoutCertificate(h) ? withoutCertificate : withCertificate).push(h);

  const groups = groupByIdentity(withCertificate, options.quietMs, options.isSuppressed ?? (() => false));
  const unattributed: Hit[] = [];
  const byEndpoint = indexByEndpoint(groups);
  const fromState = new Map<string, HitGroup>();
  for (const hit of withoutCertificate) {
    const endpoint = endpointOf(hit);
    const group = nearestGroup(byEndpoint.get(endpoint) ?? [], hit, options)?.group ?? stateGroup(fromState, options, endpoint, hit);
    if (!group) {
      unattributed.push(hit);
      continue;
    }
    group.hits.push(hit);
    group.withoutCertificate += 1;
  }
  const all = [...groups, ...fromState.values()];
  for (const g of all) g.hits.sort((a, b) => timeOf(a) - timeOf(b));
  return { groups: all, unattributed };
}

/** Hits with a certificate (or of other detections) by identity, split where the quiet period passed without rows. */
function groupByIdentity(hits: readonly Hit[], quietMs: number, isSuppressed: (hit: Hit) => boolean): HitGroup[] {
  const byKey = new Map<string, { identity: ThreatIdentity; hits: Hit[] }>();
  for (const hit of hits) {
    const identity = threatIdentity(hit);
    const entry = byKey.get(identity.key);
    if (entry) entry.hits.push(hit);
    else byKey.set(identity.key, { identity, hits: [hit] });
  }
  const groups: HitGroup[] = [];
  for (const { identity, hits: members } of byKey.values()) {
    members.sort((a, b) => timeOf(a) - timeOf(b));
    let current: Hit[] = [];
    for (const hit of members) {
      const last = current[current.length - 1];
      if (last && timeOf(hit) - timeOf(last) > quietMs) {
        groups.push(newGroup(identity, current, isSuppressed));
        current = [];
      }
      current.push(hit);
    }
    if (current.length > 0) groups.push(newGroup(identity, current, isSuppressed));
  }
  return groups;
}

/** The representative: a row no suppression matches if there is one, then the strongest, then the earliest. */
function newGroup(identity: ThreatIdentity, hits: Hit[], isSuppressed: (hit: Hit) => boolean): HitGroup {
  const live = hits.filter((h) => !isSuppressed(h));
  const pool = live.length > 0 ? live : hits;
  let representative = pool[0] as Hit;
  for (const h of pool) if (basePoints(h) > basePoints(representative)) representative = h;
  return { identity, representative, hits, withoutCertificate: 0, fromState: false };
}

/** A batch group with the event-time span of its rows with a certificate (certificate-less ones joining later do not move it). */
interface Candidate {
  group: HitGroup;
  first: number;
  last: number;
}

function indexByEndpoint(groups: readonly HitGroup[]): Map<string, Candidate[]> {
  const index = new Map<string, Candidate[]>();
  for (const group of groups) {
    if (!group.identity.endpoint) continue;
    const candidate = { group, first: timeOf(group.hits[0] as Hit), last: timeOf(group.hits[group.hits.length - 1] as Hit) };
    const list = index.get(group.identity.endpoint);
    if (list) list.push(candidate);
    else index.set(group.identity.endpoint, [candidate]);
  }
  return index;
}

/**
 * The batch's group a certificate-less session belongs to: same SNI first (when both know one),
 * then the group nearest in time. A group whose rows are all after the session counts (the
 * certificate may be logged later in the same window); one that ended more than the lookback
 * before the session does not.
 */
/** Without the destination IP ("?:port") only the SNI can tell the endpoint: no name, no attribution. */
const needsName = (endpoint: string) => endpoint.startsWith('?:');

function nearestGroup(candidates: readonly Candidate[], hit: Hit, options: GroupOptions): Candidate | undefined {
  const t = timeOf(hit);
  const serverName = serverNameOf(hit);
  const sameName = serverName ? candidates.filter((c) => c.group.identity.serverName === serverName) : [];
  const pool = sameName.length > 0 || needsName(endpointOf(hit)) ? sameName : candidates;
  let best: Candidate | undefined;
  let bestDistance = Infinity;
  for (const c of pool) {
    if (t - c.last > options.endpointLookbackMs) continue;
    const distance = t < c.first ? c.first - t : t > c.last ? t - c.last : 0;
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}

/** A group for a threat the state remembers on the endpoint, one per threat, created on first use. */
function stateGroup(made: Map<string, HitGroup>, options: GroupOptions, endpoint: string, hit: Hit): HitGroup | undefined {
  const known = options.knownEndpoints?.get(endpoint) ?? [];
  const t = timeOf(hit);
  const serverName = serverNameOf(hit);
  const recent = known.filter((k) => t - Date.parse(k.lastSeen) <= options.endpointLookbackMs);
  const sameName = serverName ? recent.filter((k) => k.serverName === serverName) : [];
  const pool = sameName.length > 0 || needsName(endpoint) ? sameName : recent;
  const chosen = [...pool].sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen))[0];
  if (!chosen) return undefined;
  const existing = made.get(chosen.key);
  if (existing) return existing;
  const group: HitGroup = {
    identity: { key: chosen.key, endpoint, ...(chosen.serverName ? { serverName: chosen.serverName } : {}) },
    representative: chosen.representative,
    hits: [],
    withoutCertificate: 0,
    fromState: true,
  };
  made.set(chosen.key, group);
  return group;
}
