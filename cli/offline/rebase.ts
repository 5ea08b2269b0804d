/**
 * The bundled samples are written around a fixed instant (samples/manifest.json "anchor").
 * Offline runs move every timestamp in them by (now − anchor), so a row written "2 hours before
 * the anchor" is 2 hours old whenever the demo runs and CT signals like "issued in the last
 * 7 days" behave the same on any day. Timestamps inside longer strings (vendor extensions)
 * move too; each keeps its own format (zone suffix, fractional digits).
 */

const ISO_DATETIME = /\b(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?/g;

export function shiftText(text: string, deltaMs: number): string {
  if (deltaMs === 0) return text;
  return text.replace(ISO_DATETIME, (match, _y, _mo, _d, _h, _mi, _s, fraction: string | undefined, zone: string | undefined) => {
    const parsed = Date.parse(zone ? match : `${match}Z`);
    if (Number.isNaN(parsed)) return match;
    const shifted = new Date(parsed + deltaMs).toISOString(); // 2026-01-15T12:00:00.000Z
    const base = shifted.slice(0, 19);
    const digits = fraction ? fraction.length - 1 : 0;
    const frac = digits > 0 ? `.${shifted.slice(20, 23).padEnd(digits, '0').slice(0, digits)}` : '';
    // An offset zone comes back as Z: same instant, UTC as the tables use.
    return `${base}${frac}${zone === undefined ? '' : 'Z'}`;
  });
}

/** Moves every timestamp found in any string of a JSON-like value. */
export function shiftTimestamps<T>(value: T, deltaMs: number): T {
  if (deltaMs === 0) return value;
  if (typeof value === 'string') return shiftText(value, deltaMs) as T;
  if (Array.isArray(value)) return value.map((v) => shiftTimestamps(v, deltaMs)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shiftTimestamps(v, deltaMs);
    return out as T;
  }
  return value;
}
