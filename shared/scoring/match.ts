import { BlockList, isIP } from 'node:net';

/** A CIDR range ("10.0.0.0/8", "fc00::/7") or a single address; the reason when it is not one. */
export function cidrProblem(range: string): string | undefined {
  const [net, bits, extra] = range.trim().split('/');
  const family = isIP(net ?? '');
  if (family === 0 || extra !== undefined) return `"${range}" is not an IP address or CIDR range`;
  if (bits === undefined) return undefined;
  const max = family === 6 ? 128 : 32;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${range}": the prefix length must be 0 to ${max}`;
  return undefined;
}

/** Builds the address check once for a list of ranges; invalid entries are skipped (validate names them). */
export function compileRanges(ranges: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const r of ranges) {
    if (cidrProblem(r)) continue;
    const [net, bits] = r.trim().split('/');
    const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net!, type);
    else list.addSubnet(net!, Number(bits), type);
  }
  return (address) => {
    if (!address) return false;
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** True when the address lies in any of the CIDR ranges (or equals a listed address). */
export function inRanges(ranges: readonly string[], address: string | undefined): boolean {
  return compileRanges(ranges)(address);
}
