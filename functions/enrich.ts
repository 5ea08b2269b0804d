import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import type { EnrichRequestDeps } from '../shared/use-cases/enrich-request.js';
import { contextLog } from './lib/context-log.js';
import { appCredential } from './lib/credential.js';
import { errorResponse, json } from './lib/http-response.js';
import { buildOnce } from './lib/once.js';
import { readBody } from './lib/read-body.js';

/** POST /api/enrich → shared/use-cases/enrich-request.ts; the use-case loads on the first request. */
export type { EnrichRequestDeps as EnrichDeps };

export function makeEnrichHandler(getDeps: () => EnrichRequestDeps | Promise<EnrichRequestDeps>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const [deps, { enrichRequest }] = await Promise.all([getDeps(), import('../shared/use-cases/enrich-request.js')]);
      const text = await readBody(request, deps.maxBodyBytes);
      return json(200, await enrichRequest(text, deps, contextLog(context)));
    } catch (err) {
      return errorResponse(err, context);
    }
  };
}

const depsFromSettings = buildOnce(async () => {
  const [{ loadConfig }, { enrichRequestDeps }] = await Promise.all([import('../shared/config.js'), import('../shared/use-cases/enrich-request.js')]);
  return enrichRequestDeps(loadConfig(), await appCredential());
});

app.http('enrich', { methods: ['POST'], authLevel: 'function', route: 'enrich', handler: makeEnrichHandler(depsFromSettings) });
