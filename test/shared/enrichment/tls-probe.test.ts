import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProbeRefusedError, type Resolver, createTlsProbe } from '../../../shared/enrichment/tls-probe.js';
import { type TlsScenarioServer, startTlsScenarioServer } from '../../helpers/tls-servers.js';

let server: TlsScenarioServer;
beforeAll(async () => {
  server = await startTlsScenarioServer();
});
afterAll(() => server.stop());
afterEach(() => vi.restoreAllMocks());

const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

describe('live TLS probe against loopback servers (TLS_PROBE_ALLOW_PRIVATE=true)', () => {
  const probe = () => createTlsProbe({ timeoutMs: 3_000, allowPrivate: true, resolve: toLoopback, ca: server.ca.certPem });

  it('reports the chain of a fresh CA-signed certificate, sent with SNI', async () => {
    const r = await probe()('fresh.probe.test', server.port);
    expect(server.sniSeen).toContain('fresh.probe.test');
    expect(r).toMatchObject({ host: 'fresh.probe.test', port: server.port, address: '127.0.0.1', selfSigned: false, authorized: true });
    expect(r.chain).toHaveLength(2);
    expect(r.chain[0]).toMatchObject({ subject: 'CN=fresh.probe.test', sans: ['fresh.probe.test'], sha256: server.certs.fresh.sha256 });
    expect(r.chain[0]!.issuer).toContain('CN=certsoar probe test CA');
    expect(Date.parse(r.chain[0]!.notBefore)).toBeLessThan(Date.now() - 86_400_000);
    expect(r.chain[1]!.sha256).toBe(server.ca.sha256);
  });

  it('reports an expired certificate as untrusted with its dates', async () => {
    const r = await probe()('expired.probe.test', server.port);
    expect(r.authorized).toBe(false);
    expect(r.authorizationError).toBe('CERT_HAS_EXPIRED');
    expect(Date.parse(r.chain[0]!.notAfter)).toBeLessThan(Date.now());
  });

  it('decides self-signed by the signature', async () => {
    const self = await probe()('self.probe.test', server.port);
    expect(self.selfSigned).toBe(true);
    expect(self.authorized).toBe(false);
    // Subject and issuer are the same string here, but a different key signed it.
    const twin = await probe()('twin.probe.test', server.port);
    expect(twin.chain[0]!.subject).toBe(twin.chain[0]!.issuer);
    expect(twin.selfSigned).toBe(false);
  });

  it('reports a certificate for the wrong name as untrusted', async () => {
    const r = await probe()('wrong.probe.test', server.port);
    expect(r.authorized).toBe(false);
    expect(r.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(r.chain[0]!.subject).toBe('CN=other.name.test');
  });

  it('resolves once and connects to the checked address with SNI = the name (no rebinding)', async () => {
    let lookups = 0;
    const rebinding: Resolver = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }]);
    const connect = vi.fn(tls.connect);
    await createTlsProbe({ timeoutMs: 3_000, allowPrivate: true, resolve: rebinding, connect: connect as unknown as typeof tls.connect })('fresh.probe.test', server.port);
    expect(lookups).toBe(1);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(connect.mock.calls[0]![0]).toMatchObject({ host: '127.0.0.1', servername: 'fresh.probe.test', port: server.port });
  });

  it('shares one probe between identical probes in flight', async () => {
    const connect = vi.fn(tls.connect);
    const p = createTlsProbe({ timeoutMs: 3_000, allowPrivate: true, resolve: toLoopback, connect: connect as unknown as typeof tls.connect });
    const [a, b] = await Promise.all([p('fresh.probe.test', server.port), p('FRESH.probe.test', server.port)]);
    expect(a).toBe(b);
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('times out a server that never finishes the handshake', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    await expect(createTlsProbe({ timeoutMs: 200, allowPrivate: true })('127.0.0.1', port)).rejects.toThrow(/longer than 200 ms/);
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

describe('SSRF: the default probe refuses private targets without sending a packet', () => {
  function guarded(resolve: Resolver) {
    const connect = vi.fn(tls.connect);
    const socketConnect = vi.spyOn(net.Socket.prototype, 'connect');
    const probe = createTlsProbe({ timeoutMs: 1_000, allowPrivate: false, resolve, connect: connect as unknown as typeof tls.connect });
    return { probe, connect, socketConnect };
  }

  it('refuses the real loopback server that the allow-private tests reach', async () => {
    const before = server.connections;
    const { probe, connect, socketConnect } = guarded(toLoopback);
    await expect(probe('fresh.probe.test', server.port)).rejects.toThrow(ProbeRefusedError);
    expect(connect).not.toHaveBeenCalled();
    expect(socketConnect).not.toHaveBeenCalled();
    expect(server.connections).toBe(before);
  });

  it.each([
    ['127.0.0.1'], ['[::1]'], ['::ffff:127.0.0.1'], ['169.254.169.254'], ['fd00:ec2::254'], ['0.0.0.0'], ['10.0.0.8'], ['100.64.3.4'], ['fe80::1'], ['::ffff:a9fe:a9fe'],
  ])('refuses the literal %s', async (host) => {
    const resolve = vi.fn(toLoopback);
    const { probe, connect, socketConnect } = guarded(resolve);
    await expect(probe(host, 443)).rejects.toThrow(/refused to probe/);
    expect(resolve).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    expect(socketConnect).not.toHaveBeenCalled();
  });

  it.each([
    ['metadata.evil.test', [{ address: '169.254.169.254', family: 4 }]],
    ['v6meta.evil.test', [{ address: 'fd00:ec2::254', family: 6 }]],
    ['mapped.evil.test', [{ address: '::ffff:192.168.0.1', family: 6 }]],
    ['mixed.evil.test', [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }]],
    ['2130706433', [{ address: '127.0.0.1', family: 4 }]],
  ])('refuses %s, a name that resolves to a private address', async (host, addresses) => {
    const { probe, connect, socketConnect } = guarded(async () => addresses);
    await expect(probe(host, 443)).rejects.toThrow(ProbeRefusedError);
    expect(connect).not.toHaveBeenCalled();
    expect(socketConnect).not.toHaveBeenCalled();
  });

  it('refuses a port out of range', async () => {
    const { probe, connect } = guarded(toLoopback);
    await expect(probe('example.test', 70_000)).rejects.toThrow(/out of range/);
    expect(connect).not.toHaveBeenCalled();
  });
});
