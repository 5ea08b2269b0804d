import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splunkApp } from '../../../../shared/detections/backends/splunk-app.js';
import { parseEnrichRequest } from '../../../../shared/observables.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';

/**
 * The Splunk app's alert action script, run by the machine's python3 the way Splunk runs a
 * custom alert action (--execute, the JSON payload on stdin), posting to a loopback receiver.
 * What it posts must be a body certsoar's POST /api/enrich accepts (its real parser).
 */
const python = spawnSync('python3', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'certsoar-splunk-action-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  body: unknown;
  key: string | undefined;
}

async function runAction(configuration: Record<string, string>, result: Record<string, string>): Promise<{ received: Received[]; status: number | null; stderr: string }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body: JSON.parse(text), key: req.headers['x-functions-key'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"findings":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const script = join(dir, 'certsoar_enrich.py');
  writeFileSync(script, splunkApp(DEFAULT_TUNING)['bin/certsoar_enrich.py'] ?? '');
  const payload = JSON.stringify({ configuration: { url: `http://127.0.0.1:${port}/api/enrich`, ...configuration }, result });
  // spawnSync would block the event loop the receiver runs on: run python asynchronously.
  const child = spawn('python3', [script, '--execute'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(payload);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { received, status, stderr };
}

describe.skipIf(!python)('Splunk alert action certsoar_enrich (needs python3)', () => {
  it('posts a T1608.003 hit as {host, port} with the function key in its header, and /api/enrich accepts it', async () => {
    const key = 'k3y-must-not-be-printed';
    const { received, status, stderr } = await runAction(
      { function_key: key, kind: 'host', fields: 'DestinationHost,DestinationPort' },
      { DestinationHost: 'login.example-bank.test', DestinationPort: '8443' },
    );
    expect(status).toBe(0);
    expect(received).toEqual([{ body: { host: 'login.example-bank.test', port: 8443 }, key }]);
    expect(stderr).not.toContain(key);
    expect(parseEnrichRequest(received[0]?.body, DEFAULT_TUNING).hits).toHaveLength(1);
  });

  it('posts a T1588.004 hit as {sha1}, and sends nothing for a result without an observable', async () => {
    const thumbprint = '0123456789abcdef0123456789abcdef01234567';
    const sha1 = await runAction({ function_key: 'x', kind: 'sha1', fields: 'CertThumbprint' }, { CertThumbprint: thumbprint });
    expect(sha1.received.map((r) => r.body)).toEqual([{ sha1: thumbprint }]);
    expect(parseEnrichRequest(sha1.received[0]?.body, DEFAULT_TUNING).hits).toHaveLength(1);
    const none = await runAction({ function_key: 'x', kind: 'sha1', fields: 'CertThumbprint' }, { CertThumbprint: '' });
    expect(none).toMatchObject({ received: [], status: 0 });
    expect(none.stderr).toContain('no observable');
  });
});
