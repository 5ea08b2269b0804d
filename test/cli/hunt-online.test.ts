import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { CLI_STATE_SCOPE } from '../../shared/hunting/hunt-once.js';
import { HUNT_STATE_TABLE } from '../../shared/state/hunt-state.js';
import { SEEN_HITS_TABLE } from '../../shared/state/seen-hits.js';
import { tableKey } from '../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../helpers/azurite.js';
import { t1608003 } from '../../shared/detections/definitions/t1608-003.js';
import type { Finding, Row } from '../../shared/model.js';
import { captureIo } from '../helpers/cli-io.js';
import { type CrtshStandIn, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { type LogAnalyticsServer, startLogAnalyticsServer } from '../helpers/log-analytics-server.js';
import { sampleCefRows } from '../shared/hunting/t1608-rows.js';
import { fakeCredential } from '../shared/hunting/test-detection.js';

/**
 * `certsoar hunt --json` against Log Analytics: the real LogsQueryClient (fake credential) talks
 * to the local HTTPS Log Analytics; crt.sh is the local stand-in; state in memory, or in Azurite
 * with STATE_STORAGE_CONNECTION.
 */

/** One --json line: the hit's detection id and row at the top level, then the finding. */
type HuntLine = Finding & { detectionId: string; row: Row };

function parseLines(text: string): HuntLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HuntLine);
}

const WORKSPACE = '11111111-2222-3333-4444-555555555555';
const NOW = '2026-01-16T00:00:00Z';
let la: LogAnalyticsServer;
let crtsh: CrtshStandIn;

beforeAll(async () => {
  [la, crtsh] = await Promise.all([startLogAnalyticsServer(), startCrtshStandIn()]);
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
  it('prints one NDJSON finding per threat the workspace holds in the window', async () => {
    // The sample events, spread over the day before NOW (one every 80 minutes, all inside the first run's one-day lookback), ingested 2 minutes late.
    // Raw CommonSecurityLog rows: the server executes the hunt's KQL over them.
    const rows = sampleCefRows().map((row, i) => ({ ...row, TimeGenerated: new Date(Date.parse(NOW) - (i + 1) * 80 * 60_000 - 120_000).toISOString() }));
    expect(rows.filter((r) => t1608003.evaluate(r, t1608003.paramsSchema.parse({}))).length).toBeGreaterThan(3);
    la.tables = { CommonSecurityLog: rows.map((row) => ({ row, ingestedAt: new Date(Date.parse(String(row.TimeGenerated)) + 120_000) })) };
    la.requests = [];
    const credential = fakeCredential();
    const io = captureIo(env(), { credential });
    const code = await main(['hunt', '--json', '--detection', 'T1608.003', '--now', NOW], io);
    expect(io.err()).not.toMatch(/unexpected error/);
    expect(code).toBe(0);
    const findings = parseLines(io.out());
    // One hit per line with its detection id and row at the top level (issue 3), plus the finding.
    for (const f of findings) {
      expect(f.detectionId).toBe('T1608.003');
      expect(f.row).toEqual(f.hit.row);
      expect(typeof f.score).toBe('number');
      expect(f.enrichment.enrichedAt).toEqual(expect.any(String));
    }
    const params = t1608003.paramsSchema.parse({});
    const hitKeys = rows.flatMap((r) => t1608003.evaluate(r, params)?.key ?? []);
    // One finding per threat: the six sessions to the sample C2 are one; every row is accounted for.
    expect(findings).toHaveLength(hitKeys.length - 5);
    expect(findings.reduce((n, f) => n + f.occurrences, 0)).toBe(hitKeys.length);
    expect(findings.every((f) => hitKeys.includes(f.hit.key))).toBe(true);
    expect(new Set(findings.map((f) => f.hit.detectionId))).toEqual(new Set(['T1608.003']));
    expect(la.evaluationErrors).toEqual([]);
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
    const params = t1608003.paramsSchema.parse({});
    const records = (la.tables.CommonSecurityLog ?? []).filter((r) => t1608003.evaluate(r.row, params));
    const recent = records.filter((r) => r.ingestedAt.getTime() >= Date.parse('2026-01-15T12:00:00Z') && r.ingestedAt.getTime() < Date.parse('2026-01-15T23:55:00Z'));
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(records.length);
    const shown = io.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);
    expect(shown.reduce((n, f) => n + f.occurrences, 0)).toBe(recent.length);
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

describe('certsoar hunt (Log Analytics) with STATE_STORAGE_CONNECTION (Azurite)', () => {
  let azurite: AzuriteInstance;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  const stored = () => ({ ...env(), STATE_STORAGE_CONNECTION: azurite.connectionString });
  const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  const partition = tableKey(`${CLI_STATE_SCOPE}|T1608.003`);
  const watermark = async () => (await table(HUNT_STATE_TABLE).getEntity<{ watermark: string }>(partition, 'watermark')).watermark;
  const seenKeys = async () => {
    const keys: string[] = [];
    // One entity holds a batch of keys (a JSON array in `keys`; see shared/state/seen-hits.ts).
    for await (const e of table(SEEN_HITS_TABLE).listEntities<{ keys: string }>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) keys.push(...(JSON.parse(e.keys) as string[]));
    return keys.sort();
  };
  const hunt = async (envVars: Record<string, string>, args: string[]) => {
    const io = captureIo(envVars, { credential: fakeCredential() });
    const code = await main(['hunt', '--json', '--detection', 'T1608.003', ...args], io);
    expect(io.err()).not.toMatch(/unexpected error/);
    expect(code).toBe(0);
    return parseLines(io.out());
  };

  it('stores the watermark and seen hits in Table Storage (scope cli); a second run prints only hits not printed before', async () => {
    const params = t1608003.paramsSchema.parse({});
    const sample = sampleCefRows().filter((row) => t1608003.evaluate(row, params));
    // Spread over the day before NOW; the first one ingested at 23:50, inside the next run's overlap.
    const rows = sample.map((row, i) => ({ ...row, TimeGenerated: new Date(Date.parse(NOW) - (i === 0 ? 12 : (i + 1) * 100) * 60_000).toISOString() }));
    la.tables = { CommonSecurityLog: rows.map((row) => ({ row, ingestedAt: new Date(Date.parse(String(row.TimeGenerated)) + 120_000) })) };
    la.requests = [];

    const first = await hunt(stored(), ['--now', NOW]);
    const firstKeys = rows.map((r) => t1608003.evaluate(r, params)!.key).sort();
    expect(first.reduce((n, f) => n + f.occurrences, 0)).toBe(firstKeys.length);
    expect(first.every((f) => firstKeys.includes(f.hit.key) && !f.update)).toBe(true);
    expect(first.every((f) => f.detectionId === 'T1608.003' && f.row.DestinationIP === f.hit.row.DestinationIP)).toBe(true);
    expect(await watermark()).toBe('2026-01-15T23:55:00.000Z'); // NOW − HUNT_INGESTION_DELAY
    expect(await seenKeys()).toEqual(firstKeys);

    // An hour later: two new events arrive; the overlap re-reads the 23:50 one, which is not printed again.
    const later = '2026-01-16T01:00:00Z';
    const fresh = sample.slice(1, 3).map((row, i) => ({ ...row, TimeGenerated: new Date(Date.parse(later) - (20 + i) * 60_000).toISOString() }));
    la.tables.CommonSecurityLog!.push(...fresh.map((row) => ({ row, ingestedAt: new Date(Date.parse(String(row.TimeGenerated)) + 120_000) })));
    la.requests = [];
    la.now = () => new Date(later);
    const second = await hunt(stored(), ['--now', later]);
    expect(la.requests[0]?.window?.start.toISOString()).toBe('2026-01-15T23:45:00.000Z'); // watermark − HUNT_OVERLAP
    const freshKeys = fresh.map((r) => t1608003.evaluate(r, params)!.key).sort();
    expect(second.map((f) => f.hit.key).sort()).toEqual(freshKeys);
    // Rows of threats the first run reported: updates of the same threats, not new ones (known threats in Azurite).
    for (const f of second) {
      const before = first.find((b) => b.threatKey === f.threatKey)!;
      expect(f).toMatchObject({ threatId: before.threatId, occurrences: before.occurrences + 1, update: { newOccurrences: 1, previousOccurrences: before.occurrences, material: false } });
    }
    expect(await watermark()).toBe('2026-01-16T00:55:00.000Z');
    expect(await seenKeys()).toEqual([...firstKeys, ...freshKeys].sort());

    // A third run with nothing new prints nothing.
    expect(await hunt(stored(), ['--now', later])).toEqual([]);

    // --since: this window, every hit in it, and the stored state neither read nor moved.
    const adHoc = await hunt(stored(), ['--since', '2h', '--now', later]);
    expect(adHoc.map((f) => f.hit.key).sort()).toEqual([t1608003.evaluate(rows[0]!, params)!.key, ...freshKeys].sort());
    expect(adHoc.every((f) => !f.update)).toBe(true); // an ad-hoc window reads no known threats either
    expect(await watermark()).toBe('2026-01-16T00:55:00.000Z');
  });

  it('without STATE_STORAGE_CONNECTION state is in memory: each run starts afresh and prints the same hits', async () => {
    const before = await seenKeys();
    const watermarkBefore = await watermark().catch(() => 'none');
    const one = await hunt(env(), ['--now', NOW]);
    const two = await hunt(env(), ['--now', NOW]);
    expect(one.length).toBeGreaterThan(0);
    expect(two.map((f) => f.id).sort()).toEqual(one.map((f) => f.id).sort());
    expect(await seenKeys()).toEqual(before);
    expect(await watermark().catch(() => 'none')).toBe(watermarkBefore);
  });
});
