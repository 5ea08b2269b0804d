import { X509Certificate, createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { TlsProbeResult } from '../model.js';
import { errorMessage } from '../redact.js';
import { blockedReason } from './address-guard.js';
import pLimit from 'p-limit';
import { SingleFlight } from './resilience.js';
import { isSelfSigned, oneLineDn } from './x509.js';

/**
 * Live TLS probe of host:port: resolve first, refuse any address the SSRF guard blocks, then
 * connect to the checked IP (SNI = the name) so a second, rebinding DNS answer is never used.
 * The presented chain is reported whatever its validity; self-signed is decided by verifying the
 * leaf's signature with its own key, not by comparing names.
 */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;
export type TlsConnect = (options: tls.ConnectionOptions) => tls.TLSSocket;

export interface TlsProbeOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  resolve?: Resolver;
  connect?: TlsConnect;
  /** Extra trust anchors (tests); the chain is reported either way. */
  ca?: string | string[];
  /** Probes in flight at once (default 8); identical host:port probes in flight share one. */
  concurrency?: number;
}

/** The probe refused the target (SSRF guard, bad input): not worth retrying. */
export class ProbeRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeRefusedError';
  }
}

export type TlsProbe = (host: string, port: number) => Promise<TlsProbeResult>;

const defaultResolve: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export function createTlsProbe(options: TlsProbeOptions): TlsProbe {
  const resolve = options.resolve ?? defaultResolve;
  const connect = options.connect ?? tls.connect;
  const limit = pLimit(options.concurrency ?? 8);
  const flights = new SingleFlight<TlsProbeResult>();
  return (rawHost, port) => flights.run(`${rawHost.toLowerCase()}:${port}`, () => limit(() => probeOnce(rawHost, port)));

  async function probeOnce(rawHost: string, port: number): Promise<TlsProbeResult> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ProbeRefusedError(`port ${port} is out of range`);
    const host = rawHost.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (host === '' || /[\s/@]/.test(host)) throw new ProbeRefusedError('invalid host');
    const literal = isIP(host) !== 0;
    const addresses = literal ? [host] : (await withTimeout(resolve(host), options.timeoutMs, `resolving ${host}`)).map((a) => a.address);
    if (addresses.length === 0) throw new Error(`${host} did not resolve`);
    if (!options.allowPrivate) {
      for (const address of addresses) {
        const reason = blockedReason(address);
        if (reason) throw new ProbeRefusedError(`refused to probe ${host}: ${reason} (TLS_PROBE_ALLOW_PRIVATE=false)`);
      }
    }
    const address = addresses[0] as string;
    return handshake(connect, { address, host, port, servername: literal ? undefined : host, timeoutMs: options.timeoutMs, ca: options.ca });
  }
}

function handshake(
  connect: TlsConnect,
  t: { address: string; host: string; port: number; servername: string | undefined; timeoutMs: number; ca: string | string[] | undefined },
): Promise<TlsProbeResult> {
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const socket = connect({
      host: t.address,
      port: t.port,
      ...(t.servername ? { servername: t.servername } : {}),
      rejectUnauthorized: false,
      ...(t.ca ? { ca: t.ca } : {}),
      // Verify the name against what the caller asked for, not the IP we connected to.
      checkServerIdentity: (_ip, cert) => tls.checkServerIdentity(t.servername ?? t.host, cert),
    });
    const finish = (err: Error | undefined, result?: TlsProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolvePromise(result as TlsProbeResult);
    };
    const timer = setTimeout(() => finish(new Error(`TLS handshake with ${t.host}:${t.port} took longer than ${t.timeoutMs} ms`)), t.timeoutMs);
    socket.once('error', (err) => finish(new Error(`TLS probe of ${t.host}:${t.port} failed: ${errorMessage(err)}`)));
    socket.once('secureConnect', () => {
      try {
        const chain = presentedChain(socket);
        const leaf = chain[0]?.x509;
        finish(undefined, {
          host: t.host,
          port: t.port,
          address: t.address,
          chain: chain.map((c) => c.summary),
          selfSigned: leaf ? isSelfSigned(leaf) : false,
          authorized: socket.authorized,
          ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
        });
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}

function presentedChain(socket: tls.TLSSocket): Array<{ x509: X509Certificate; summary: TlsProbeResult['chain'][number] }> {
  const out: Array<{ x509: X509Certificate; summary: TlsProbeResult['chain'][number] }> = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current && current.raw && out.length < 10) {
    const x509 = new X509Certificate(current.raw);
    const sha256 = createHash('sha256').update(x509.raw).digest('hex');
    if (seen.has(sha256)) break; // a self-signed root points at itself
    seen.add(sha256);
    out.push({
      x509,
      summary: {
        subject: oneLineDn(x509.subject),
        issuer: oneLineDn(x509.issuer),
        sans: parseSans(x509.subjectAltName),
        notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(),
        sha256,
        serialNumber: x509.serialNumber.toLowerCase(),
      },
    });
    current = current.issuerCertificate;
  }
  return out;
}

function parseSans(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .map((s) => s.replace(/^(DNS|IP Address):/i, '').trim())
    .filter(Boolean);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
