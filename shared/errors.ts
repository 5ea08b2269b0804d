/**
 * The typed error hierarchy every entry point understands. functions/ maps these to HTTP
 * answers in one place; the CLI maps them to exit codes.
 */

export interface FieldProblem {
  /** Dotted path of the failing field, e.g. "row.DestinationPort" or "LOG_ANALYTICS_WORKSPACE_ID". */
  path: string;
  message: string;
}

export abstract class CertsoarError extends Error {
  abstract readonly kind: 'validation' | 'config' | 'upstream_unavailable' | 'rate_limited' | 'too_large';
}

/** Input that does not have the expected shape; names every failing field. */
export class ValidationError extends CertsoarError {
  readonly kind = 'validation' as const;
  constructor(
    message: string,
    readonly problems: FieldProblem[],
  ) {
    super(`${message}: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

/** Settings that are missing or invalid; lists every problem by setting name. */
export class ConfigError extends CertsoarError {
  readonly kind = 'config' as const;
  constructor(readonly problems: FieldProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** A dependency (crt.sh, Log Analytics, a webhook, ARM) could not answer. */
export class UpstreamUnavailableError extends CertsoarError {
  readonly kind = 'upstream_unavailable' as const;
  constructor(
    readonly upstream: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${upstream} unavailable: ${message}`, options);
    this.name = 'UpstreamUnavailableError';
  }
}

/** A dependency asked us to slow down; retryAfterMs is what it asked for, when it said. */
export class RateLimitedError extends CertsoarError {
  readonly kind = 'rate_limited' as const;
  constructor(
    readonly upstream: string,
    readonly retryAfterMs: number | undefined,
    message = 'rate limited',
  ) {
    super(`${upstream} rate limited: ${message}`);
    this.name = 'RateLimitedError';
  }
}

/** A request body over the accepted size. */
export class PayloadTooLargeError extends CertsoarError {
  readonly kind = 'too_large' as const;
  constructor(
    readonly limitBytes: number,
    readonly actualBytes: number,
  ) {
    super(`request body is ${actualBytes} bytes; the limit is ${limitBytes}`);
    this.name = 'PayloadTooLargeError';
  }
}

/** Turns zod issues into field problems with dotted paths. */
export function problemsFromZod(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix = '',
): FieldProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
    return { path: [prefix, path].filter(Boolean).join('.'), message: issue.message };
  });
}
