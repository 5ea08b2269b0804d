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
import { T1608_003_SCENARIOS } from '../definitions/t1608-003.scenarios.js';

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

async function runAction(configuration: Record<string, string>, alert: Record<string, unknown>): Promise<{ received: Received[]; status: number | null; stderr: string }> {
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
  const payload = JSON.stringify({ ...alert, configuration: { url: `http://127.0.0.1:${port}/api/enrich`, ...configuration } });
  // spawnSync would block the event loop the receiver runs on: run python asynchronously.
  const child = spawn('python3', [script, '--execute'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(payload);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { received, status, stderr };
}

const selfSigned = T1608_003_SCENARIOS.find((sc) => sc.expect?.signals.includes('self_signed'))?.row as Record<string, unknown>;
/** What Splunk hands a custom alert action on stdin (Splunk docs, "Create custom alert actions": payload_format = json). */
const splunkPayload = {
  sid: 'scheduler__admin__certsoar_detections__RMD5a1b2_at_1763632800_42',
  search_name: 'certsoar T1608.003 sourcetypes',
  app: 'certsoar_detections',
  owner: 'admin',
  results_link: 'https://splunk.example:8000/app/certsoar_detections/@go?sid=scheduler__admin',
  results_file: '/opt/splunk/var/run/splunk/dispatch/x/results.csv.gz',
  session_key: 'splunk-session-key-must-not-leave',
  server_uri: 'https://127.0.0.1:8089',
  result: selfSigned,
};

describe.skipIf(!python)('Splunk alert action certsoar_enrich (needs python3)', () => {
  it('forwards the alert as Splunk\'s webhook payload with the function key in its header, and /api/enrich judges the row with the named detection', async () => {
    const key = 'k3y-must-not-be-printed';
    const { received, status, stderr } = await runAction({ function_key: key }, splunkPayload);
    expect(status).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]?.key).toBe(key);
    expect(received[0]?.body).toEqual({
      sid: splunkPayload.sid,
      search_name: splunkPayload.search_name,
      app: splunkPayload.app,
      owner: splunkPayload.owner,
      results_link: splunkPayload.results_link,
      result: selfSigned,
    });
    expect(stderr).not.toContain(key);
    const parsed = parseEnrichRequest(received[0]?.body, DEFAULT_TUNING);
    expect(parsed.hits).toHaveLength(1);
    expect(parsed.hits[0]?.detectionId).toBe('T1608.003');
    expect(parsed.hits[0]?.signals.map((x) => x.id)).toContain('self_signed');
    expect(parsed.hits[0]?.incident?.siem).toMatchObject({ kind: 'splunk', sid: splunkPayload.sid });
  });

  it('sends nothing for an alert without a result row', async () => {
    const none = await runAction({ function_key: 'x' }, { ...splunkPayload, result: {} });
    expect(none).toMatchObject({ received: [], status: 0 });
    expect(none.stderr).toContain('no result row');
  });
});
