/**
 * Retry-After (RFC 9110 §10.2.3) as milliseconds: delta-seconds or an HTTP date; undefined when
 * absent or unreadable. The one reader for crt.sh and the webhooks.
 */
export function parseRetryAfter(value: unknown, now: number | Date = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  const from = typeof now === 'number' ? now : now.getTime();
  return Number.isNaN(at) ? undefined : Math.max(0, at - from);
}
