import type { InvocationContext } from '@azure/functions';
import { redact } from '../../shared/redact.js';
import type { UseCaseLog } from '../../shared/use-cases/log.js';

/** A use-case's log lines go to the invocation's log, redacted (no secret reaches Application Insights). */
export function contextLog(context: InvocationContext): UseCaseLog {
  return {
    info: (m) => context.log(redact(m)),
    warn: (m) => context.warn(redact(m)),
    error: (m) => context.error(redact(m)),
  };
}
