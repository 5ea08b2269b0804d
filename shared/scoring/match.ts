import { BlockList, isIP } from 'node:net';

/** Case-insensitive glob: `*` is any run of characters, everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'is').test(value);
}

export function anyGlob(patterns: readonly string[], value: string | undefined): boolean {
  return value !== undefined && value !== '' && patterns.some((p) => globMatch(p, value));
}

/** True when the address lies in any of the CIDR ranges (or equals a listed address). */
export function inRanges(ranges: readonly string[], address: string | undefined): boolean {
  if (!address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const r of ranges) {
    const [net, bits] = r.split('/');
    const f = isIP(net ?? '');
    if (f === 0) continue;
    const type = f === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net as string, type);
    else list.addSubnet(net as string, Number(bits), type);
  }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
