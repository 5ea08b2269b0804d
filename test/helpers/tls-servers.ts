import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { type TestCert, makeCert } from './certs.js';

/**
 * One TLS server on 127.0.0.1 presenting a different certificate per SNI name, with certificates
 * made at test time: fresh CA-signed, expired, self-signed, wrong name, and a leaf whose subject
 * copies its issuer's name (string-equal, but not self-signed). Records the SNI names it saw.
 */
export interface TlsScenarioServer {
  port: number;
  ca: TestCert;
  certs: Record<'fresh' | 'expired' | 'selfSigned' | 'wrongName' | 'nameTwin', TestCert>;
  /** SNI names received, in order; connections counts every TCP connection. */
  sniSeen: string[];
  readonly connections: number;
  stop(): Promise<void>;
}

const DAY = 86_400_000;

export async function startTlsScenarioServer(): Promise<TlsScenarioServer> {
  const ca = await makeCert({ subject: 'CN=certsoar probe test CA, O=certsoar tests', isCa: true });
  const twinCa = await makeCert({ subject: 'CN=Microsoft IT TLS CA 5', isCa: true });
  const certs = {
    fresh: await makeCert({ subject: 'CN=fresh.probe.test', sans: ['fresh.probe.test'], issuer: ca, notBefore: new Date(Date.now() - 2 * DAY) }),
    expired: await makeCert({ subject: 'CN=expired.probe.test', sans: ['expired.probe.test'], issuer: ca, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 30 * DAY) }),
    selfSigned: await makeCert({ subject: 'CN=Microsoft IT TLS CA 5', sans: ['self.probe.test'] }),
    wrongName: await makeCert({ subject: 'CN=other.name.test', sans: ['other.name.test'], issuer: ca }),
    nameTwin: await makeCert({ subject: 'CN=Microsoft IT TLS CA 5', sans: ['twin.probe.test'], issuer: twinCa }),
  };
  const chains: Record<string, string> = {
    'fresh.probe.test': `${certs.fresh.certPem.trim()}\n${ca.certPem.trim()}\n`,
    'expired.probe.test': `${certs.expired.certPem.trim()}\n${ca.certPem.trim()}\n`,
    'self.probe.test': certs.selfSigned.certPem,
    'wrong.probe.test': `${certs.wrongName.certPem.trim()}\n${ca.certPem.trim()}\n`,
    'twin.probe.test': `${certs.nameTwin.certPem.trim()}\n${twinCa.certPem.trim()}\n`,
  };
  const keys: Record<string, string> = {
    'fresh.probe.test': certs.fresh.keyPem,
    'expired.probe.test': certs.expired.keyPem,
    'self.probe.test': certs.selfSigned.keyPem,
    'wrong.probe.test': certs.wrongName.keyPem,
    'twin.probe.test': certs.nameTwin.keyPem,
  };
  const sniSeen: string[] = [];
  let connections = 0;
  const server = tls.createServer({
    cert: chains['fresh.probe.test'],
    key: keys['fresh.probe.test'],
    SNICallback: (name, cb) => {
      sniSeen.push(name);
      const chain = chains[name] ?? chains['fresh.probe.test'];
      const key = keys[name] ?? keys['fresh.probe.test'];
      cb(null, tls.createSecureContext({ cert: chain, key }));
    },
  });
  server.on('connection', () => connections++);
  server.on('secureConnection', (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    ca,
    certs,
    sniSeen,
    get connections() {
      return connections;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
