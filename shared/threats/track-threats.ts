import type { Hit, ThreatAggregate } from '../model.js';
import { type AppliedRows, type EndpointEntry, type KnownThreat, KnownThreatConflictError, type KnownThreatStore } from '../state/known-threats.js';
import { mapLimit } from '../state/limit.js';
import { type EndpointThreat, type HitGroup, groupHits } from './group-hits.js';
import { type RowsSummary, mergeSources, newSourceNames, summarizeGroup, threatId } from './merge-rows.js';
import { endpointOf, isSessionWithoutCertificate } from './threat-key.js';

/**
 * Hits → one hit per threat, carrying its ThreatAggregate, with the known-threats state:
 * - a threat not known, or known but quiet (no rows, by event time) for longer than the quiet
 *   period, is new: a new threat id, so a new incident;
 * - otherwise the rows update it: same threat id, totals added up, new sources listed, and the
 *   update marked material when it brings new sources or stronger base signals;
 * - the same rows again (a redelivery after a crash) get the answer they got the first time.
 * Certificate-less TLS sessions are attributed to their endpoint's threat (group-hits.ts), from
 * this batch or from the endpoints the state remembers.
 */

export interface ThreatSettings {
  /** THREAT_QUIET_PERIOD */
  quietMs: number;
  /** THREAT_ENDPOINT_LOOKBACK */
  endpointLookbackMs: number;
}

/** THREAT_QUIET_PERIOD and THREAT_ENDPOINT_LOOKBACK defaults (shared/config.ts). */
export const DEFAULT_THREAT_SETTINGS: ThreatSettings = { quietMs: 7 * 86_400_000, endpointLookbackMs: 7 * 86_400_000 };

export function threatSettings(config: { THREAT_QUIET_PERIOD: number; THREAT_ENDPOINT_LOOKBACK: number }): ThreatSettings {
  return { quietMs: config.THREAT_QUIET_PERIOD, endpointLookbackMs: config.THREAT_ENDPOINT_LOOKBACK };
}

export interface ThreatTracking {
  /** One hit per threat; hits that already carried a threat pass through unchanged. */
  threats: Hit[];
  /** Certificate-less sessions to endpoints where nothing suspicious was seen (not findings). */
  unattributed: number;
}

const MAX_ATTEMPTS = 3;
/** Known-threat reads and writes in flight at once (Table Storage round trips). */
const STATE_CONCURRENCY = 8;
const basePoints = (h: Hit) => h.signals.reduce((s, x) => s + x.points, 0);

export async function trackThreats(
  hits: readonly Hit[],
  store: KnownThreatStore,
  settings: ThreatSettings,
  now: () => Date = () => new Date(),
  isSuppressed?: (hit: Hit) => boolean,
): Promise<ThreatTracking> {
  const grouped = hits.filter((h) => h.threat);
  const raw = hits.filter((h) => !h.threat);
  const knownEndpoints = await loadKnownEndpoints(raw, store);
  const { groups, unattributed } = groupHits(raw, { ...settings, knownEndpoints, ...(isSuppressed ? { isSuppressed } : {}) });
  // Threats in parallel; the groups of one threat (split by the quiet period) in time order.
  const byKey = new Map<string, HitGroup[]>();
  for (const g of groups) byKey.set(g.identity.key, [...(byKey.get(g.identity.key) ?? []), g]);
  const recorded = await mapLimit([...byKey.values()], STATE_CONCURRENCY, async (sameThreat) => {
    const out: Array<{ group: HitGroup; representative: Hit; aggregate: ThreatAggregate }> = [];
    for (const group of sameThreat) out.push({ group, ...(await recordGroup(group, store, settings, now)) });
    return out;
  });
  const all = recorded.flat();
  await rememberEndpoints(all, store, settings);
  return { threats: [...grouped, ...all.map(({ representative, aggregate }) => ({ ...representative, threat: aggregate }))], unattributed: unattributed.length };
}

/** The endpoints of this batch's TLS threats, one write per endpoint, for later certificate-less sessions. */
async function rememberEndpoints(recorded: ReadonlyArray<{ group: HitGroup; aggregate: ThreatAggregate }>, store: KnownThreatStore, settings: ThreatSettings): Promise<void> {
  const byEndpoint = new Map<string, EndpointEntry[]>();
  for (const { group, aggregate } of recorded) {
    const endpoint = group.identity.endpoint;
    if (!endpoint) continue;
    const entry: EndpointEntry = { detectionId: group.representative.detectionId, key: aggregate.key, lastSeen: aggregate.lastSeen, ...(group.identity.serverName ? { serverName: group.identity.serverName } : {}) };
    byEndpoint.set(endpoint, [...(byEndpoint.get(endpoint) ?? []), entry]);
  }
  await mapLimit([...byEndpoint], STATE_CONCURRENCY, async ([endpoint, entries]) => {
    const newest = Math.max(...entries.map((e) => Date.parse(e.lastSeen)));
    await store.rememberEndpoint(endpoint, entries, new Date(newest - settings.endpointLookbackMs));
  });
}

/** The threats the state remembers on the endpoints of this batch's certificate-less sessions. */
async function loadKnownEndpoints(hits: readonly Hit[], store: KnownThreatStore): Promise<Map<string, EndpointThreat[]>> {
  const endpoints = new Set(hits.filter(isSessionWithoutCertificate).map(endpointOf));
  const known = new Map<string, EndpointThreat[]>();
  for (const endpoint of endpoints) {
    const list: EndpointThreat[] = [];
    for (const entry of await store.endpointThreats(endpoint)) {
      const stored = await store.get(entry.detectionId, entry.key);
      if (!stored) continue;
      list.push({ key: entry.key, lastSeen: entry.lastSeen, representative: stored.threat.representative, ...(entry.serverName ? { serverName: entry.serverName } : {}) });
    }
    if (list.length > 0) known.set(endpoint, list);
  }
  return known;
}

/** Applies one group to the state (conditional write, retried from a fresh read on a conflict). */
async function recordGroup(group: HitGroup, store: KnownThreatStore, settings: ThreatSettings, now: () => Date): Promise<{ representative: Hit; aggregate: ThreatAggregate }> {
  const summary = summarizeGroup(group);
  const detectionId = group.representative.detectionId;
  for (let attempt = 1; ; attempt++) {
    const stored = await store.get(detectionId, summary.key);
    const again = stored?.threat.applied.find((a) => a.digest === summary.rowsDigest);
    if (stored && again) return { representative: stored.threat.representative, aggregate: again.aggregate };
    const next = stored && !isQuiet(stored.threat, summary, settings.quietMs) ? updated(stored.threat, group, summary) : fresh(group, summary, now());
    try {
      await store.put(next, stored?.version);
    } catch (err) {
      if (err instanceof KnownThreatConflictError && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
    const applied = next.applied[next.applied.length - 1] as AppliedRows;
    return { representative: next.representative, aggregate: applied.aggregate };
  }
}

function isQuiet(known: KnownThreat, summary: RowsSummary, quietMs: number): boolean {
  return Date.parse(summary.firstSeen) - Date.parse(known.lastSeen) > quietMs;
}

/** A threat seen for the first time, or again after a quiet period: a new incident. */
function fresh(group: HitGroup, summary: RowsSummary, now: Date): KnownThreat {
  const detectionId = group.representative.detectionId;
  const aggregate: ThreatAggregate = { ...summary, id: threatId(detectionId, summary.key, summary.firstSeen) };
  return {
    detectionId,
    key: summary.key,
    id: aggregate.id,
    firstSeen: summary.firstSeen,
    lastSeen: summary.lastSeen,
    occurrences: summary.occurrences,
    withoutCertificate: summary.withoutCertificate,
    sources: summary.sources,
    firstReportedAt: now.toISOString(),
    maxBasePoints: basePoints(group.representative),
    representative: group.representative,
    ...(group.identity.endpoint ? { endpoint: group.identity.endpoint } : {}),
    ...(group.identity.serverName ? { serverName: group.identity.serverName } : {}),
    applied: [{ digest: summary.rowsDigest, aggregate }],
  };
}

/** More rows of a threat already reported: the same incident, with totals and sources merged. */
function updated(known: KnownThreat, group: HitGroup, summary: RowsSummary): KnownThreat {
  const points = basePoints(group.representative);
  const stronger = points > known.maxBasePoints;
  const newSources = newSourceNames(known.sources, summary.sources);
  const firstSeen = summary.firstSeen < known.firstSeen ? summary.firstSeen : known.firstSeen;
  const lastSeen = summary.lastSeen > known.lastSeen ? summary.lastSeen : known.lastSeen;
  const sources = mergeSources(known.sources, summary.sources);
  const occurrences = known.occurrences + summary.occurrences;
  const withoutCertificate = known.withoutCertificate + summary.withoutCertificate;
  const aggregate: ThreatAggregate = {
    key: summary.key,
    id: known.id,
    occurrences,
    firstSeen,
    lastSeen,
    sources,
    withoutCertificate,
    rowsDigest: summary.rowsDigest,
    update: {
      firstReportedAt: known.firstReportedAt,
      newOccurrences: summary.occurrences,
      previousOccurrences: known.occurrences,
      previousLastSeen: known.lastSeen,
      newSources,
      material: newSources.length > 0 || stronger,
    },
  };
  return {
    ...known,
    firstSeen,
    lastSeen,
    occurrences,
    withoutCertificate,
    sources,
    maxBasePoints: Math.max(points, known.maxBasePoints),
    // Shown on the new rows, unless they are weaker or carry no certificate (attributed from the state).
    representative: group.fromState || points < known.maxBasePoints ? known.representative : group.representative,
    applied: [...known.applied, { digest: summary.rowsDigest, aggregate }],
  };
}
