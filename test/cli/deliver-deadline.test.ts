import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../helpers/cli-io.js';

/** Issue 14: a failing webhook held `hunt --deliver` 46.7 s for 4 findings, silently. */
let server: Server;
let url: string;
let requests = 0;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsoar-deadline-'));
  // Accepts the request and never answers: every attempt runs into its timeout.
  server = createServer(() => {
    requests += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/SECRET-PATH`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('certsoar hunt --deliver with a webhook that does not answer', () => {
  it('shows progress, stops at --deliver-timeout with one line saying so, exit 1, the secret path never printed', async () => {
    const io = captureIo({ INCIDENT_WEBHOOK_URL: url }, { cwd: dir });
    const started = Date.now();
    const code = await main(['hunt', '--offline', '--now', '2026-01-15T12:00:00Z', '--min-level', 'High', '--deliver', '--deliver-timeout', '7s', '--out', 'out'], io);
    const elapsed = Date.now() - started;
    expect(code).toBe(1);
    expect(requests).toBeGreaterThan(0);
    expect(io.err()).toMatch(/^delivering \d+ finding\(s\) \(deadline 7 s\)$/m);
    expect(io.err()).toMatch(/^delivery: still waiting for the webhooks \(5 s\)$/m);
    expect(io.out()).toMatch(/^delivery: stopped waiting after 7 s \(--deliver-timeout\)/m);
    expect(elapsed).toBeLessThan(20_000);
    expect(`${io.out()}${io.err()}`).not.toContain('SECRET-PATH');
  }, 60_000);

  it('--deliver-timeout must be a duration', async () => {
    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--deliver-timeout', 'soon'], io)).toBe(2);
    expect(io.err()).toContain('--deliver-timeout "soon" is not a duration');
  });
});

describe('certsoar hunt --deliver: the Teams digest links each finding', () => {
  it('every row of the digest card opens the finding (crt.sh or ATT&CK here, Sentinel for incidents), and the card is valid', async () => {
    const { cardProblems } = await import('../shared/delivery/validate-card.js');
    const bodies: unknown[] = [];
    const teams = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => teams.listen(0, '127.0.0.1', resolve));
    try {
      const io = captureIo({ TEAMS_WEBHOOK_URL: `http://127.0.0.1:${(teams.address() as AddressInfo).port}/teams`, DIGEST_THRESHOLD: '2' }, { cwd: dir });
      expect(await main(['hunt', '--offline', '--now', '2026-01-15T12:00:00Z', '--min-level', 'Medium', '--deliver', '--out', 'digest'], io), io.err()).toBe(0);
      expect(bodies).toHaveLength(1);
      const card = (bodies[0] as { attachments: Array<{ content: { body: Array<{ type: string; rows?: Array<{ cells: Array<{ selectAction?: { url: string } }> }> }> } }> }).attachments[0]!.content;
      const table = card.body.find((e) => e.type === 'Table')!;
      const rows = table.rows!.slice(1);
      expect(rows.length).toBeGreaterThan(2);
      for (const row of rows) expect(row.cells[2]?.selectAction?.url).toMatch(/^https:\/\/(crt\.sh\/\?q=|attack\.mitre\.org\/)/);
      expect(await cardProblems(card)).toEqual([]);
    } finally {
      await new Promise((r) => teams.close(r));
    }
  }, 60_000);
});
