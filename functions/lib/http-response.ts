import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { CertsoarError, type ValidationError } from '../../shared/errors.js';
import { errorMessage } from '../../shared/redact.js';

/**
 * The one error-to-response mapper for every HTTP function. Known errors become 4xx with the
 * failing fields; an unexpected error is logged (redacted) and answered 500 without details.
 */
export function errorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (err instanceof CertsoarError) {
    switch (err.kind) {
      case 'validation':
        return json(400, { error: 'validation', message: errorMessage(err), problems: (err as ValidationError).problems });
      case 'config':
        // Setting names are safe to log; the answer only says the app is misconfigured.
        context.error(errorMessage(err));
        return json(500, { error: 'configuration', message: 'the function app is misconfigured; see the function logs' });
      case 'too_large':
        // The field is the body as a whole: the limit is ENRICH_MAX_BODY_BYTES.
        return json(413, { error: 'too_large', field: 'body', message: err.message });
      case 'rate_limited':
        return json(429, { error: 'rate_limited', message: errorMessage(err) }, retryAfterHeader(err));
      case 'upstream_unavailable':
        return json(503, { error: 'upstream_unavailable', message: errorMessage(err) });
    }
  }
  context.error(`unexpected error: ${errorMessage(err)}`);
  return json(500, { error: 'internal', message: 'unexpected error; see the function logs', invocationId: context.invocationId });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json', ...headers } };
}

function retryAfterHeader(err: CertsoarError): Record<string, string> {
  const ms = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : undefined;
  return ms === undefined ? {} : { 'retry-after': String(Math.ceil(ms / 1000)) };
}
