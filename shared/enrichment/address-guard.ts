import { BlockList, isIP } from 'node:net';

/**
 * Addresses the live TLS probe must never reach (SSRF): private, loopback, link-local (cloud
 * metadata 169.254.169.254 and fd00:ec2::254 included), unspecified, CGNAT, unique-local,
 * documentation, benchmarking, multicast and reserved ranges, and IPv6 forms that embed an IPv4
 * address (IPv4-mapped, NAT64, 6to4, IPv4-compatible), which are checked as that IPv4 address.
 * The list follows the "not globally reachable" rows of the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries, plus Azure's platform address 168.63.129.16 (the wire server every VM and
 * App Service instance reaches: DHCP, DNS, health probes; learn.microsoft.com
 * "What is IP address 168.63.129.16?").
 */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24],
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
  ['168.63.129.16', 32], // Azure platform (wire server)
];

const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, …)
  ['100:0:0:1::', 64], // dummy prefix (RFC 9780)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 SIDs (RFC 9602)
  ['fc00::', 7], // unique-local (fd00:ec2::254 lives here)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const v4List = new BlockList();
for (const [net, bits] of BLOCKED_V4) v4List.addSubnet(net, bits, 'ipv4');
const v6List = new BlockList();
for (const [net, bits] of BLOCKED_V6) v6List.addSubnet(net, bits, 'ipv6');

/** Why an address is refused, or undefined when it is a public address the probe may reach. */
export function blockedReason(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return v4List.check(ip, 'ipv4') ? `${ip} is a private, loopback, link-local or reserved IPv4 address` : undefined;
  if (family !== 6) return `${address} is not an IP address`;
  const embedded = embeddedIpv4(ip);
  if (embedded !== undefined) {
    const inner = blockedReason(embedded);
    return inner ? `${ip} embeds ${embedded}: ${inner}` : undefined;
  }
  return v6List.check(ip, 'ipv6') ? `${ip} is a private, loopback, link-local or reserved IPv6 address` : undefined;
}

/** The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
export function embeddedIpv4(ipv6: string): string | undefined {
  const groups = expandIpv6(ipv6);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const zeroTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4(g6, g7); // ::ffff:a.b.c.d
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return v4(g6, g7); // ::ffff:0:a.b.c.d (SIIT)
  if (zeroTo(6) && !(g6 === 0 && g7 <= 1)) return v4(g6, g7); // ::a.b.c.d (deprecated compatible)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // NAT64
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return v4(g6, g7); // local-use NAT64 64:ff9b:1::/48
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return undefined;
}

function expandIpv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const o = dotted[1].split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - h.length - t.length).fill(0);
  const all = [...h, ...fill, ...t];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}
