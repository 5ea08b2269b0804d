import { InvocationContext } from '@azure/functions';

/**
 * The one way tests build a Functions InvocationContext: the host's own class, with the trigger
 * metadata a queue trigger carries (dequeueCount) and every log line collected as "level: text".
 */
export function invocationContext(functionName: string, options: { dequeueCount?: number; logs?: string[]; invocationId?: string } = {}): InvocationContext {
  const logs = options.logs;
  return new InvocationContext({
    functionName,
    invocationId: options.invocationId ?? `${functionName}-test`,
    ...(options.dequeueCount !== undefined ? { triggerMetadata: { dequeueCount: options.dequeueCount } } : {}),
    logHandler: (level, ...args) => logs?.push(`${level}: ${args.map(String).join(' ')}`),
  });
}
