import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { t1608003 } from '../../shared/detections/t1608-003-install-digital-certificate.js';
import type { Finding } from '../../shared/model.js';
import { captureIo } from '../helpers/cli-io.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../helpers/log-analytics-server.js';
import { T1608_COLUMNS, projectedT1608Rows, sampleCefRows } from '../shared/hunting/t1608-rows.js';
import { fakeCredential } from '../shared/hunting/test-detection.js';

/**
 * `certsoar hunt --json` against Log Analytics: the real LogsQueryClient (fake credential) talks
 * to the local HTTPS Log Analytics; crt.sh is the local stand-in; state in memory.
 */

const WORKSPACE = '11111111-2222-3333-4444-555555555555';
const NOW = '2026-01-16T00:00:00Z';
let la: LogAnalyticsServer;
let crtsh: CrtshStandIn;

beforeAll(async () => {
  [la, crtsh] = await Promise.all([startLogAnalyticsServer({ columns: T1608_COLUMNS }), startCrtshStandIn()]);
  la.now = () => new Date(NOW);
});
afterAll(async () => {
  await Promise.all([la.close(), crtsh.stop()]);
});

function env(): Record<string, string> {
  return {
    LOG_ANALYTICS_WORKSPACE_ID: WORKSPACE,
    LOG_ANALYTICS_ENDPOINT: la.endpoint,
    CRTSH_BASE_URL: crtsh.url,
    TLS_PROBE_ENABLED: 'false',
    HUNTS_ENABLED: 'T1608.003',
  };
}

describe('certsoar hunt (Log Analytics)', () => {
  it('prints one NDJSON finding per hit the workspace holds in the window', async () => {
    // The sample events, spread over the day before NOW (one every 100 minutes), ingested 2 minutes late.
    const rows = projectedT1608Rows(sampleCefRows()).map((row, i) => ({ ...row, TimeGenerated: new Date(Date.parse(NOW) - (i + 1) * 100 * 60_000 - 120_000).toISOString() }));
    expect(rows.length).toBeGreaterThan(3);
    la.records = rows.map((row) => ({ row, ingestedAt: new Date(Date.parse(String(row.TimeGenerated)) + 120_000) }));
    la.requests = [];
    const credential = fakeCredential();
    const io = captureIo(env(), { credential });
    const code = await main(['hunt', '--json', '--detection', 'T1608.003', '--now', NOW], io);
    expect(io.err()).not.toMatch(/unexpected error/);
    expect(code).toBe(0);
    const findings = io
      .out()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Finding);
    const params = t1608003.paramsSchema.parse({});
    expect(findings.map((f) => f.hit.key).sort()).toEqual(rows.map((r) => t1608003.evaluate(r, params)?.key).sort());
    expect(new Set(findings.map((f) => f.hit.detectionId))).toEqual(new Set(['T1608.003']));
    expect(findings.every((f) => typeof f.hit.row.DestinationHostName === 'string' || f.hit.row.DestinationHostName === null)).toBe(true);
    // The query went through the real client, with the token and the ingestion-time window.
    expect(la.requests.length).toBeGreaterThan(0);
    expect(la.requests.every((r) => r.authorization === 'Bearer fake-token' && r.workspaceId === WORKSPACE)).toBe(true);
    expect(la.requests[0]?.window?.start.toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(la.requests.at(-1)?.window?.end.toISOString()).toBe('2026-01-15T23:55:00.000Z');
    expect(credential.calls.length).toBeGreaterThan(0);
  });

  it('--since narrows the window', async () => {
    la.requests = [];
    const io = captureIo(env(), { credential: fakeCredential() });
    const code = await main(['hunt', '--json', '--since', '12h', '--now', NOW], io);
    expect(code).toBe(0);
    expect(la.requests[0]?.window?.start.toISOString()).toBe('2026-01-15T12:00:00.000Z');
    const recent = la.records.filter((r) => r.ingestedAt.getTime() >= Date.parse('2026-01-15T12:00:00Z') && r.ingestedAt.getTime() < Date.parse('2026-01-15T23:55:00Z'));
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(la.records.length);
    expect(io.out().split('\n').filter(Boolean)).toHaveLength(recent.length);
  });

  it('a rejected query fails the command with the detection named; exit code 1', async () => {
    la.faults.push({ kind: 'bad-request' });
    const io = captureIo(env(), { credential: fakeCredential() });
    const code = await main(['hunt', '--json', '--detection', 'T1608.003', '--now', NOW], io);
    expect(code).toBe(1);
    expect(io.err()).toMatch(/T1608\.003.*unhealthy.*BadArgumentError/);
  });

  it('names the missing workspace setting', async () => {
    const io = captureIo({ ...env(), LOG_ANALYTICS_WORKSPACE_ID: '' }, { credential: fakeCredential() });
    expect(await main(['hunt', '--json'], io)).toBe(1);
    expect(io.err()).toMatch(/LOG_ANALYTICS_WORKSPACE_ID/);
  });
});
