import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

/**
 * The registrable domain (eTLD+1) of a DNS name, public-suffix aware, including private
 * suffixes (azurewebsites.net, github.io): each tenant of a shared platform is its own domain,
 * and crt.sh is never asked for %.azurewebsites.net. undefined for IPs, bare suffixes and junk.
 */
export function registrableDomain(name: string | undefined): string | undefined {
  if (!name) return undefined;
  let host = name.trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  if (host === '' || host.length > 253) return undefined;
  if (!/^[\x20-\x7e]*$/.test(host)) host = domainToASCII(host);
  if (!/^[a-z0-9_.-]+$/.test(host) || !host.includes('.')) return undefined;
  const parsed = parse(host, { allowPrivateDomains: true });
  if (parsed.isIp || !parsed.domain || !parsed.publicSuffix) return undefined;
  if (!parsed.isIcann && !parsed.isPrivate) return undefined;
  return parsed.domain;
}
