import { readFileSync } from 'node:fs';

/** certsoar's version from package.json (source tree or dist/ layout); '0.0.0' when not found. */
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'certsoar' && pkg.version) return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
}

export const CERTSOAR_VERSION = packageVersion();

/** The one User-Agent of every outbound call (crt.sh, webhooks, Splunk, QRadar): certsoar/<version> (+<contact>). */
export function userAgent(contact?: string): string {
  const clean = contact?.replace(/[^\x20-\x7e]/g, '').trim();
  return clean ? `certsoar/${CERTSOAR_VERSION} (+${clean})` : `certsoar/${CERTSOAR_VERSION}`;
}
