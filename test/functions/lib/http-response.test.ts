import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../../functions/lib/http-response.js';
import { ConfigError, PayloadTooLargeError, RateLimitedError, UpstreamUnavailableError, ValidationError } from '../../../shared/errors.js';
import { invocationContext } from '../../helpers/invocation-context.js';

function context(): { ctx: InvocationContext; errors: string[] } {
  const errors: string[] = [];
  const ctx = invocationContext('test', { logs: errors });
  return { ctx, errors };
}

describe('errorResponse', () => {
  it('validation → 400 with the failing field paths', () => {
    const res = errorResponse(new ValidationError('bad body', [{ path: 'row.DestinationPort', message: 'expected a number' }]), context().ctx);
    expect(res.status).toBe(400);
    expect(res.jsonBody).toMatchObject({ error: 'validation', problems: [{ path: 'row.DestinationPort', message: 'expected a number' }] });
  });

  it('too large → 413', () => {
    expect(errorResponse(new PayloadTooLargeError(1024, 4096), context().ctx).status).toBe(413);
  });

  it('rate limited → 429 with Retry-After in seconds', () => {
    const res = errorResponse(new RateLimitedError('crt.sh', 2500), context().ctx);
    expect(res.status).toBe(429);
    expect(res.headers).toMatchObject({ 'retry-after': '3' });
  });

  it('upstream unavailable → 503; config → 500 without the setting values', () => {
    expect(errorResponse(new UpstreamUnavailableError('Log Analytics', 'timeout'), context().ctx).status).toBe(503);
    const res = errorResponse(new ConfigError([{ path: 'TEAMS_WEBHOOK_URL', message: 'expected an http(s) URL' }]), context().ctx);
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.jsonBody)).not.toContain('TEAMS_WEBHOOK_URL');
  });

  it('an unexpected error → 500 without details, logged redacted', () => {
    const { ctx, errors } = context();
    const res = errorResponse(new Error('boom https://x.logic.azure.com/invoke?sig=SECRETSIG'), ctx);
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.jsonBody)).not.toContain('boom');
    expect(errors.join('\n')).toContain('sig=REDACTED');
    expect(errors.join('\n')).not.toContain('SECRETSIG');
  });
});
