import { type InvocationContext, app } from '@azure/functions';
import type { EnrichHitsDeps } from '../shared/use-cases/enrich-hit-message.js';
import { QUEUE_NAMES } from '../shared/state/queue-encoding.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Queue "hits" → shared/use-cases/enrich-hit-message.ts → queue "findings". A bad message throws
 * (the host retries it, then moves it to "hits-poison"). The use-case loads on the first message.
 */
export type { EnrichHitsDeps };

export function makeEnrichHitsHandler(getDeps: () => EnrichHitsDeps | Promise<EnrichHitsDeps>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const [deps, { enrichHitMessage }] = await Promise.all([getDeps(), import('../shared/use-cases/enrich-hit-message.js')]);
    await enrichHitMessage(message, deps, contextLog(context));
  };
}

const depsFromSettings = buildOnce(async () => {
  const [{ loadConfig }, { enrichHitsDeps }] = await Promise.all([import('../shared/config.js'), import('../shared/use-cases/enrich-hit-message.js')]);
  return enrichHitsDeps(loadConfig(), await appCredential());
});

app.storageQueue('enrichHits', { queueName: QUEUE_NAMES.hits, connection: 'STATE_STORAGE_CONNECTION', handler: makeEnrichHitsHandler(depsFromSettings) });
