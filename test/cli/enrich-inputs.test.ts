import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { getDetection, hitFromRow } from '../../shared/detections/index.js';
import type { Finding } from '../../shared/model.js';
import { score } from '../../shared/scoring/score.js';
import { DEFAULT_TUNING } from '../../shared/scoring/tuning.js';
import { makeCert } from '../helpers/certs.js';
import { captureIo } from '../helpers/cli-io.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';

/**
 * Issue 14, `certsoar enrich`: what analysts paste, and the live probe's verdicts scored like a
 * hunt's. Real TLS servers on 127.0.0.1 with certificates made at test time.
 */
const DAY = 86_400_000;
let crtsh: CrtshStandIn;
const servers: tls.Server[] = [];
let selfSignedPort: number;
let expiredPort: number;

async function serve(certPem: string, keyPem: string): Promise<number> {
  const server = tls.createServer({ cert: certPem, key: keyPem });
  server.on('secureConnection', (s) => s.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  crtsh = await startCrtshStandIn();
  const localhost = await makeCert({ subject: 'CN=localhost' });
  selfSignedPort = await serve(localhost.certPem, localhost.keyPem);
  const ca = await makeCert({ subject: 'CN=certsoar enrich test CA', isCa: true });
  const expired = await makeCert({ subject: 'CN=intranet', sans: ['intranet'], issuer: ca, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 30 * DAY) });
  expiredPort = await serve(`${expired.certPem.trim()}\n${ca.certPem.trim()}\n`, expired.keyPem);
});
afterAll(async () => {
  await crtsh.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function enrich(arg: string): Promise<{ code: number; finding?: Finding; err: string }> {
  const io = captureIo({ CRTSH_BASE_URL: crtsh.url, TLS_PROBE_ALLOW_PRIVATE: 'true', CRTSH_TIMEOUT: '2s' });
  const code = await main(['enrich', '--json', arg], io);
  return { code, err: io.err(), ...(code === 0 ? { finding: JSON.parse(io.out()) as Finding } : {}) };
}

describe('certsoar enrich accepts what analysts paste', () => {
  it.each([
    ['a bare IP address (probed on 443)', '127.0.0.1', '127.0.0.1:443'],
    ['a bare IPv6 address', '::1', '::1:443'],
    ['an https URL (its host and port)', () => `https://localhost:${selfSignedPort}/owa/auth/logon.aspx?x=1`, () => `localhost:${selfSignedPort}`],
    ['an http URL (its host name)', 'http://login.example.com/path', 'login.example.com'],
    ['a single-label host:port (probe only)', () => `localhost:${selfSignedPort}`, () => `localhost:${selfSignedPort}`],
    ['a Unicode look-alike domain (as punycode)', 'lоgin.contoso.com', 'xn--lgin-55d.contoso.com'],
    ['a punycode domain', 'xn--lgin-55d.contoso.com', 'xn--lgin-55d.contoso.com'],
  ])('%s', async (_, input, observable) => {
    const r = await enrich(typeof input === 'function' ? input() : input);
    expect(r.code, r.err).toBe(0);
    expect(r.finding?.hit.row['Observable']).toBe(typeof observable === 'function' ? observable() : observable);
  });

  it('a single-label host is never looked up in CT', async () => {
    const before = crtsh.requests.length;
    const r = await enrich(`localhost:${selfSignedPort}`);
    expect(r.finding?.hit.entities.domains).toEqual([]);
    expect(crtsh.requests.length).toBe(before);
  });
});

describe('certsoar enrich scores the live probe like a hunt', () => {
  it('a self-signed CN=localhost probed live is High, with the signals a hunt gives the same certificate', async () => {
    const r = await enrich(`localhost:${selfSignedPort}`);
    expect(r.code, r.err).toBe(0);
    const f = r.finding!;
    expect(f.enrichment.tlsProbe?.selfSigned).toBe(true);
    // The same certificate logged by a firewall for the same host, through the hunt's twin and scorer.
    const row = { TimeGenerated: new Date().toISOString(), DeviceAction: 'allow', DestinationHostName: 'localhost', DestinationIP: '127.0.0.1', DestinationPort: 443, AdditionalExtensions: 'ssl_subject=CN=localhost;ssl_issuer=CN=localhost' };
    const hunted = score(hitFromRow(getDetection('T1608.003'), row, DEFAULT_TUNING)!, undefined, DEFAULT_TUNING);
    expect(hunted.level).toBe('High');
    expect(f.level).toBe('High');
    const base = (ids: string[]) => ids.filter((id) => ['self_signed', 'hostname_mismatch', 'placeholder_cn'].includes(id)).sort();
    expect(base(f.reasons.map((s) => s.id))).toEqual(base(hunted.reasons.map((s) => s.id)));
    expect(f.score).toBeGreaterThanOrEqual(hunted.score);
  });

  it('an expired certificate probed live is a signal', async () => {
    const r = await enrich(`intranet.localtest:${expiredPort}`.replace('intranet.localtest', '127.0.0.1'));
    expect(r.code, r.err).toBe(0);
    expect(r.finding!.reasons.map((s) => s.id)).toContain('expired_certificate');
  });
});

describe('certsoar enrich with crt.sh not answering', () => {
  it('shows progress while it waits, then says CT is missing on the score line', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const io = captureIo({ CRTSH_BASE_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, CRTSH_TIMEOUT: '4s' });
      expect(await main(['enrich', 'example.org'], io)).toBe(0);
      expect(io.err()).toMatch(/^certsoar enrich: still waiting for crt\.sh \(127\.0\.0\.1:\d+\) \(\d+ s\)$/m);
      expect(io.out()).toMatch(/^example\.org: score \d+ \(\w+\) — without certificate transparency: crt\.sh could not answer/);
    } finally {
      silent.close();
    }
  }, 90_000);
});
