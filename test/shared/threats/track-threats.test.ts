import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import type { Hit } from '../../../shared/model.js';
import { KNOWN_THREATS_TABLE, type KnownThreatStore, MemoryKnownThreats, TableKnownThreats } from '../../../shared/state/known-threats.js';
import { storageClients } from '../../../shared/state/storage.js';
import { DEFAULT_THREAT_SETTINGS, trackThreats } from '../../../shared/threats/track-threats.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';
import { DAY, nashuaHits, resumedSessions, scrantonHits } from './fixtures.js';

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

const stores: Array<[string, () => KnownThreatStore]> = [
  ['Table Storage (Azurite)', () => new TableKnownThreats(storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.table(`${KNOWN_THREATS_TABLE}${Math.floor(Math.random() * 1e9)}`), 'functions')],
  ['memory', () => new MemoryKnownThreats()],
];

const settings = DEFAULT_THREAT_SETTINGS; // 7-day quiet period and endpoint lookback
const NASHUA_FIRST = '2020-04-30T00:40:44.736Z';
const NASHUA_LAST = '2020-04-30T00:44:44.752Z';

describe.each(stores)('trackThreats with known threats in %s', (_name, makeStore) => {
  it('one threat per C2 server: the 378 Zeek sessions give two, with occurrences, event times and sources', async () => {
    const { threats, unattributed } = await trackThreats([...nashuaHits(), ...scrantonHits()], makeStore(), settings);
    expect(unattributed).toBe(0);
    expect(threats).toHaveLength(2);
    const nashua = threats.find((t) => t.entities.destinationIp === '192.168.0.4')!.threat!;
    expect(nashua).toMatchObject({ occurrences: 376, firstSeen: NASHUA_FIRST, lastSeen: NASHUA_LAST, withoutCertificate: 0, sources: { hosts: [{ name: '10.0.1.6', count: 376 }] } });
    expect(nashua.update).toBeUndefined();
    expect(threats.find((t) => t.entities.destinationIp === '192.168.0.5')!.threat).toMatchObject({ occurrences: 2 });
  });

  it('sessions without a certificate to the C2 endpoint in the same batch join its threat', async () => {
    const resumed = resumedSessions(50, { shiftMs: 60_000 });
    const { threats, unattributed } = await trackThreats([...nashuaHits(), ...resumed], makeStore(), settings);
    expect(unattributed).toBe(0);
    expect(threats).toHaveLength(1);
    expect(threats[0]!.threat).toMatchObject({ occurrences: 426, withoutCertificate: 50 });
    // The threat is shown on a session that carried the certificate.
    expect(threats[0]!.certificate?.subjectCommonName).toBe('rempel.group.net');
  });

  it('later rows update the reported threat (same id, totals, new sources) instead of raising a new one', async () => {
    const store = makeStore();
    const first = (await trackThreats(nashuaHits().slice(0, 300), store, settings)).threats[0]!.threat!;
    const second = (await trackThreats(nashuaHits().slice(300), store, settings)).threats[0]!.threat!;
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ occurrences: 376, firstSeen: NASHUA_FIRST, lastSeen: NASHUA_LAST });
    expect(second.update).toMatchObject({ newOccurrences: 76, previousOccurrences: 300, previousLastSeen: first.lastSeen, newSources: [], material: false });
  });

  it('resumed sessions in a later hunt, within the endpoint lookback, are attributed from the state; a new client is a material change', async () => {
    const store = makeStore();
    const reported = (await trackThreats(nashuaHits(), store, settings)).threats[0]!.threat!;
    const twoDaysLater = await trackThreats(resumedSessions(20, { shiftMs: 2 * DAY, client: '10.0.1.99' }), store, settings);
    expect(twoDaysLater.unattributed).toBe(0);
    expect(twoDaysLater.threats).toHaveLength(1);
    const t = twoDaysLater.threats[0]!;
    expect(t.certificate?.subjectCommonName).toBe('rempel.group.net');
    expect(t.threat).toMatchObject({ id: reported.id, occurrences: 396, withoutCertificate: 20 });
    expect(t.threat!.update).toMatchObject({ newOccurrences: 20, newSources: ['10.0.1.99'], material: true });
    expect(t.threat!.sources.hosts).toEqual([
      { name: '10.0.1.6', count: 376 },
      { name: '10.0.1.99', count: 20 },
    ]);
  });

  it('resumed sessions past the endpoint lookback, or to an endpoint never seen suspicious, are not findings', async () => {
    const store = makeStore();
    await trackThreats(nashuaHits(), store, settings);
    const late = await trackThreats(resumedSessions(5, { shiftMs: 8 * DAY }), store, settings);
    expect(late).toEqual({ threats: [], unattributed: 5 });
    const elsewhere = await trackThreats(resumedSessions(3, { shiftMs: DAY, server: { ip: '192.168.0.9', port: 443 } }), store, settings);
    expect(elsewhere).toEqual({ threats: [], unattributed: 3 });
  });

  it('after a quiet period without rows the threat raises a new incident (a new id, no update)', async () => {
    const store = makeStore();
    const first = (await trackThreats(nashuaHits(), store, settings)).threats[0]!.threat!;
    const back = nashuaHits().slice(0, 10).map((h): Hit => ({ ...h, key: `${h.key}-back`, time: new Date(Date.parse(h.time) + 8 * DAY).toISOString() }));
    const again = (await trackThreats(back, store, settings)).threats[0]!.threat!;
    expect(again.id).not.toBe(first.id);
    expect(again.update).toBeUndefined();
    expect(again.occurrences).toBe(10);
  });

  it('the same rows sent again (a redelivery after a crash) get the same answer and are not counted twice', async () => {
    const store = makeStore();
    await trackThreats(nashuaHits().slice(0, 100), store, settings);
    const once = (await trackThreats(nashuaHits().slice(100), store, settings)).threats[0]!.threat!;
    const twice = (await trackThreats(nashuaHits().slice(100), store, settings)).threats[0]!.threat!;
    expect(twice).toEqual(once);
    const more = (await trackThreats(resumedSessions(1, { shiftMs: 1_000 }), store, settings)).threats[0]!.threat!;
    expect(more.occurrences).toBe(377);
  });
});

describe('threat keys of the endpoint detections', () => {
  const base = { time: '2026-01-01T00:00:00.000Z', row: {}, signals: [{ id: 's', points: 3, reason: 'r' }] };
  const write = (key: string, device: string, thumbprint: string): Hit => ({
    ...base,
    detectionId: 'T1588.004',
    key,
    indicators: {},
    entities: { host: device, account: 'corp\\alice', registryKey: `HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\${thumbprint}`, domains: [] },
    certificate: { sha1: thumbprint, store: 'Root' },
  });
  const tool = (key: string, device: string, branch: string, commandLine: string): Hit => ({
    ...base,
    detectionId: 'T1587.003',
    key,
    indicators: { DetectionBranch: branch },
    entities: { host: device, commandLine, domains: [] },
  });

  it('T1588.004: per device and thumbprint; T1587.003: per device, branch and command', async () => {
    const thumb = 'a'.repeat(40);
    const { threats } = await trackThreats(
      [
        write('1', 'wks-1', thumb),
        write('2', 'WKS-1', thumb),
        write('3', 'wks-2', thumb),
        write('4', 'wks-1', 'b'.repeat(40)),
        tool('5', 'wks-1', 'CertGenToolExecution', 'openssl req -x509 -newkey rsa:2048'),
        tool('6', 'wks-1', 'CertGenToolExecution', 'openssl req -x509 -newkey rsa:2048'),
        tool('7', 'wks-1', 'CertGenToolExecution', 'openssl genrsa 2048'),
      ],
      new MemoryKnownThreats(),
      settings,
    );
    const counts = threats.map((t) => `${t.detectionId} ${t.threat!.occurrences}`).sort();
    expect(counts).toEqual(['T1587.003 1', 'T1587.003 2', 'T1588.004 1', 'T1588.004 1', 'T1588.004 2']);
    expect(threats.find((t) => t.threat!.occurrences === 2 && t.detectionId === 'T1588.004')!.threat!.sources).toMatchObject({ hosts: [{ name: 'wks-1', count: 1 }, { name: 'WKS-1', count: 1 }], accounts: [{ name: 'corp\\alice', count: 2 }] });
  });
});

describe('known threats in Table Storage under concurrent writers', () => {
  it('two runners updating one threat at once both land: the conditional write retries from a fresh read', async () => {
    const table = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.table(`${KNOWN_THREATS_TABLE}${Math.floor(Math.random() * 1e9)}`);
    const a = new TableKnownThreats(table, 'functions');
    const b = new TableKnownThreats(table, 'functions');
    const hits = nashuaHits();
    await trackThreats(hits.slice(0, 100), a, settings);
    const [one, two] = await Promise.all([trackThreats(hits.slice(100, 200), a, settings), trackThreats(hits.slice(200), b, settings)]);
    const totals = [one.threats[0]!.threat!.occurrences, two.threats[0]!.threat!.occurrences].sort((x, y) => x - y);
    // Whichever wrote second saw the first one's rows: 100 + 100 + 176 in the end.
    expect(totals[1]).toBe(376);
    expect([200, 276]).toContain(totals[0]);
    expect((await a.get('T1608.003', one.threats[0]!.threat!.key))!.threat.occurrences).toBe(376);
  });
});

describe('big threats stay within the storage limits', () => {
  it('a 9,600-character openssl command from 2,000 hosts: a bounded key, capped sources, stored in Table Storage and updated', async () => {
    const commandLine = `openssl req -x509 -newkey rsa:2048 -subj /CN=${'x'.repeat(9_600)}`;
    const hits: Hit[] = Array.from({ length: 2_000 }, (_, i) => ({
      detectionId: 'T1587.003',
      key: `k${i}`,
      time: new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1_000).toISOString(),
      row: { ProcessCommandLine: commandLine },
      signals: [{ id: 'cert_tool_execution', points: 2, reason: 'openssl ran' }],
      indicators: { DetectionBranch: 'CertGenToolExecution' },
      entities: { host: 'build-01', account: `corp\\user${i}`, commandLine, domains: [] },
    }));
    const store = new TableKnownThreats(storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!.table(`${KNOWN_THREATS_TABLE}${Math.floor(Math.random() * 1e9)}`), 'functions');
    const first = (await trackThreats(hits.slice(0, 1_000), store, settings)).threats;
    expect(first).toHaveLength(1);
    const t = first[0]!.threat!;
    expect(t.key.length).toBeLessThanOrEqual(512);
    expect(t.sources).toMatchObject({ hosts: [{ name: 'build-01', count: 1_000 }], accountsOmitted: 950 });
    expect(t.sources.accounts).toHaveLength(50);
    const second = (await trackThreats(hits.slice(1_000), store, settings)).threats[0]!.threat!;
    expect(second).toMatchObject({ id: t.id, occurrences: 2_000, update: { newOccurrences: 1_000, material: true } });
    expect(second.sources.accountsOmitted).toBe(1_950);
  });
});
