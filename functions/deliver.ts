import { app, type InvocationContext } from '@azure/functions';
import type { DeliverDeps } from '../shared/use-cases/deliver-finding-message.js';
import { QUEUE_NAMES } from '../shared/state/queue-encoding.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Queue "findings" → shared/use-cases/deliver-finding-message.ts (incident webhook, Sentinel
 * write-back, a pending Teams card; the poison policy lives there too). Loads on the first message.
 */
export type { DeliverDeps, PoisonMessage } from '../shared/use-cases/deliver-finding-message.js';

export function makeDeliverHandler(getDeps: () => DeliverDeps | Promise<DeliverDeps>) {
  return async function deliverFinding(message: unknown, context: InvocationContext): Promise<void> {
    const [deps, { deliverFindingMessage }] = await Promise.all([getDeps(), import('../shared/use-cases/deliver-finding-message.js')]);
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    await deliverFindingMessage(message, dequeueCount, deps, contextLog(context));
  };
}

const depsFromSettings = buildOnce(async () => {
  const [{ loadConfig }, { deliverDeps }] = await Promise.all([import('../shared/config.js'), import('../shared/use-cases/deliver-finding-message.js')]);
  return deliverDeps(loadConfig(process.env), await appCredential());
});

app.storageQueue('deliver', { queueName: QUEUE_NAMES.findings, connection: 'STATE_STORAGE_CONNECTION', handler: makeDeliverHandler(depsFromSettings) });
