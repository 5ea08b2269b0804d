import type { Deliverer, DelivererDeps, DeliveryReport } from '../../shared/delivery/deliverer.js';
import type { Finding } from '../../shared/model.js';

/**
 * `hunt --deliver` with one overall deadline: retries stop once the deadline would be passed,
 * a line on stderr every few seconds says the run is still delivering, and at the deadline the
 * command stops waiting and says so (the delivery ledger's idempotency keys make a later
 * `--deliver` post each finding once).
 */
export class DeliveryDeadline {
  private readonly endsAt: number;
  constructor(
    readonly timeoutMs: number,
    now = Date.now(),
  ) {
    this.endsAt = now + timeoutMs;
  }

  get remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** Post options for the deliverer: no single attempt and no backoff outlasts the deadline. */
  postOptions(): NonNullable<DelivererDeps['post']> {
    return {
      timeoutMs: Math.max(1_000, Math.min(10_000, this.timeoutMs)),
      sleep: async (ms) => {
        if (ms > this.remainingMs) throw new Error(`the ${Math.round(this.timeoutMs / 1000)} s delivery deadline leaves no time to retry`);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
    };
  }
}

export type DeadlineOutcome = { done: true; report: DeliveryReport } | { done: false };

export async function deliverWithinDeadline(deliverer: Deliverer, findings: Finding[], deadline: DeliveryDeadline, say: (t: string) => void, everyMs = 5_000): Promise<DeadlineOutcome> {
  const started = Date.now();
  say(`delivering ${findings.length} finding(s) (deadline ${Math.round(deadline.timeoutMs / 1000)} s)\n`);
  const ticker = setInterval(() => say(`delivery: still waiting for the webhooks (${Math.round((Date.now() - started) / 1000)} s)\n`), everyMs);
  ticker.unref();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<DeadlineOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), deadline.remainingMs);
    timer.unref();
  });
  try {
    return await Promise.race([deliverer.deliver(findings).then((report): DeadlineOutcome => ({ done: true, report })), expired]);
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}
