import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config.js';
import type { Hit } from '../model.js';
import type { HitSink } from '../state/hit-queue.js';
import { KNOWN_THREATS_TABLE, type KnownThreatStore, MemoryKnownThreats, TableKnownThreats } from '../state/known-threats.js';
import { storageClients } from '../state/storage.js';
import { type ThreatSettings, trackThreats } from './track-threats.js';

/**
 * Where a hunt slice's new hits become queue messages: grouped into threats first, so one message
 * carries one threat (its strongest hit plus the ThreatAggregate: occurrences, event times,
 * sources, update of a known threat) instead of one message per row. Wraps the queue sink, so the
 * hunting engine's order (send → mark seen → move the watermark) is unchanged: a crash before the
 * marks re-sends the same rows, which the known-threats state recognises by their digest and
 * answers as the first time.
 */
export class ThreatHitSink implements HitSink {
  /** Certificate-less sessions no threat could take, over this sink's life (for logs and tests). */
  unattributed = 0;

  constructor(
    private readonly inner: HitSink,
    private readonly store: KnownThreatStore,
    private readonly settings: ThreatSettings,
    private readonly now: () => Date = () => new Date(),
    /** Whether a tuning suppression matches a row (findSuppression): the threat is shown on a live row when it has one. */
    private readonly isSuppressed?: (hit: Hit) => boolean,
  ) {}

  /** Whatever the queue sink answers (e.g. its dead letters) is passed back to the hunt. */
  async send(hits: readonly Hit[]): ReturnType<HitSink['send']> {
    const tracking = await trackThreats(hits, this.store, this.settings, this.now, this.isSuppressed);
    this.unattributed += tracking.unattributed;
    return this.inner.send(tracking.threats);
  }
}

/** Known threats in Table Storage under `scope` when STATE_STORAGE_CONNECTION is set, else in memory. */
export function knownThreatsFromConfig(config: Config, credential: TokenCredential | undefined, scope: string): KnownThreatStore {
  const clients = storageClients(config, credential);
  return clients ? new TableKnownThreats(clients.table(KNOWN_THREATS_TABLE), scope) : new MemoryKnownThreats();
}
