/** One benchmark's outcome: figures printed as measured, and whether it met its target. */
export interface BenchResult {
  name: string;
  figures: Record<string, number | string>;
  pass: boolean;
  target: string;
}

/** Samples RSS while a task runs; returns the peak in bytes. */
export function trackPeakRss(intervalMs = 20): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

export const MB = 1024 * 1024;
