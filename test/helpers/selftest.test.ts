import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteInstance, SHARED_AZURITE_ENV, startAzurite } from './azurite.js';
import { makeCert, makeLoopbackServerCerts } from './certs.js';
import { loopbackTls } from './loopback-tls.js';

describe('test helpers', () => {
  let azurite: AzuriteInstance;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite.stop();
  });

  it('Azurite stores and reads a table entity', async () => {
    const client = TableClient.fromConnectionString(azurite.connectionString, 'selftest', { allowInsecureConnection: true });
    await client.createTable();
    await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    const e = await client.getEntity<{ value: number }>('p', 'r');
    expect(e.value).toBe(42);
  });

  it('the run shares one Azurite, and each caller gets an account of its own in it', async () => {
    const other = await startAzurite();
    expect(process.env[SHARED_AZURITE_ENV]).toBeDefined();
    expect(new URL(other.tableEndpoint).port).toBe(new URL(azurite.tableEndpoint).port);
    expect(other.tableEndpoint).not.toBe(azurite.tableEndpoint);
    await TableClient.fromConnectionString(azurite.connectionString, 'mine', { allowInsecureConnection: true }).createTable();
    const seen: string[] = [];
    for await (const t of TableServiceClient.fromConnectionString(other.connectionString, { allowInsecureConnection: true }).listTables()) seen.push(t.name ?? '');
    expect(seen).not.toContain('mine');
    await other.stop();
  });

  it('makes a CA-signed leaf that node verifies, and a self-signed one', async () => {
    const { ca, server } = await makeLoopbackServerCerts();
    const leaf = new X509Certificate(server.certPem);
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(server.sha256);
    const self = await makeCert({ subject: 'CN=self.example.test' });
    const selfX = new X509Certificate(self.certPem);
    expect(selfX.verify(selfX.publicKey)).toBe(true);
    expect(selfX.verify(new X509Certificate(ca.certPem).publicKey)).toBe(false);
  });

  it('an HTTPS server on loopback with the test CA answers a client that trusts it', async () => {
    const { ca, server } = await makeLoopbackServerCerts();
    const srv = createServer({ cert: server.certPem, key: server.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const { request } = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem, path: '/' }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      })
        .on('error', reject)
        .end();
    });
    srv.close();
    expect(body).toBe('ok');
  });
});

describe('loopback TLS trust', () => {
  it('the global test CA is trusted by a plain fetch (NODE_EXTRA_CA_CERTS), no verification disabled', async () => {
    const tls = loopbackTls();
    const srv = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('trusted'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const { default: axios } = await import('axios');
    const res = await axios.get<string>(`https://localhost:${port}/`, { responseType: 'text' });
    srv.close();
    expect(res.data).toBe('trusted');
  });
});
