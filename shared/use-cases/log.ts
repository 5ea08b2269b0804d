/** Where a use-case reports progress: the function's InvocationContext, the CLI's stderr, a test's array. */
export interface UseCaseLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLog: UseCaseLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
