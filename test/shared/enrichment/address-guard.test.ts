import { describe, expect, it } from 'vitest';
import { blockedReason, embeddedIpv4 } from '../../../shared/enrichment/address-guard.js';

describe('SSRF address guard', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '169.254.0.1', '0.0.0.0', '100.64.0.1',
    '100.127.255.255', '192.0.2.10', '198.18.0.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fd00:ec2::254', 'fc00::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '::127.0.0.1', 'ff02::1', '2001:db8::1', '[::1]',
  ])('refuses %s', (address) => {
    expect(blockedReason(address)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34', '64:ff9b::808:808'])('allows the public address %s', (address) => {
    expect(blockedReason(address)).toBeUndefined();
  });

  // Not globally reachable per the IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 9637
  // 3fff::/20 documentation, RFC 9602 5f00::/16 SRv6 SIDs, RFC 9780 100:0:0:1::/64 dummy prefix) and Azure's platform address
  // 168.63.129.16 (wire server: DHCP, DNS, health probes; learn.microsoft.com "What is IP address 168.63.129.16").
  it.each(['168.63.129.16', '3fff::1', '3fff:fff:ffff::1', '5f00::1', '5f00:ffff::1', '100:0:0:1::1', '::ffff:168.63.129.16', '64:ff9b::a83f:8110'])(
    'refuses the special-purpose address %s',
    (address) => {
      expect(blockedReason(address)).toBeDefined();
    },
  );

  it.each(['168.63.129.17', '3fff:1000::1', '5f01::1'])('allows the neighbouring public address %s', (address) => {
    expect(blockedReason(address)).toBeUndefined();
  });

  it('refuses anything that is not an IP address', () => {
    expect(blockedReason('localhost')).toMatch(/not an IP address/);
  });

  it('reads the IPv4 address embedded in IPv6 forms', () => {
    expect(embeddedIpv4('::ffff:169.254.169.254')).toBe('169.254.169.254');
    expect(embeddedIpv4('::ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIpv4('2002:c000:0204::1')).toBe('192.0.2.4');
    expect(embeddedIpv4('2606:2800::1')).toBeUndefined();
  });
});
