import { app, type InvocationContext, type Timer } from '@azure/functions';
import type { DeliveryReport } from '../shared/delivery/deliverer.js';
import type { TeamsDigestDeps } from '../shared/use-cases/send-pending-teams.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { buildOnce } from './lib/once.js';

/**
 * Every minute → shared/use-cases/send-pending-teams.ts: posts the Teams cards the deliver
 * function left pending. The host runs a timer function as a singleton, so two runs never claim
 * the same entries.
 */
export type { TeamsDigestDeps };
export const TEAMS_DIGEST_SCHEDULE = '0 */1 * * * *';

export function makeTeamsDigestHandler(getDeps: () => TeamsDigestDeps | Promise<TeamsDigestDeps>) {
  return async function teamsDigest(_timer: Timer, context: InvocationContext): Promise<DeliveryReport> {
    const [deps, { sendPendingTeams }] = await Promise.all([getDeps(), import('../shared/use-cases/send-pending-teams.js')]);
    return sendPendingTeams(deps, contextLog(context));
  };
}

const depsFromSettings = buildOnce(async () => {
  const [{ loadConfig }, { teamsDigestDeps }] = await Promise.all([import('../shared/config.js'), import('../shared/use-cases/send-pending-teams.js')]);
  return teamsDigestDeps(loadConfig(process.env), await appCredential());
});

app.timer('teamsDigest', { schedule: TEAMS_DIGEST_SCHEDULE, handler: makeTeamsDigestHandler(depsFromSettings) });
