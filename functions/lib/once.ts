/**
 * Builds a function's Azure dependencies on first use and reuses them across invocations. A
 * failed build is forgotten, so a corrected setting takes effect on the next invocation instead
 * of the instance staying broken until it is recycled.
 */
export function buildOnce<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((err: unknown) => {
      built = undefined;
      throw err;
    });
    return built;
  };
}
