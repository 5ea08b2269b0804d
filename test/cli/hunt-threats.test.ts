import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { type CrtshReplay, startCrtshReplay } from '../../cli/offline/crtsh-replay.js';
import type { Finding } from '../../shared/model.js';
import { zeekSslToCommonSecurityLog } from '../../shared/detections/adapters/zeek.js';
import { zeekRecords, zeekRows } from '../shared/detections/fixtures/datasets.js';

/**
 * Issue 11 item 1 on real telemetry: the vendored Zeek logs of the APT29 emulation (378 TLS
 * sessions to two C2 servers, test/datasets/README.md) exported as a CommonSecurityLog table and
 * hunted with `certsoar hunt --workspace`. Expected: one finding per C2 server, their occurrences
 * adding up to every session, with the event times and the internal hosts of the sessions.
 */

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

function captureIo(cwd: string, env: Record<string, string | undefined>): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    env,
    cwd,
    interactive: false,
  };
  return io;
}

const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding & { detectionId: string });

/** Event times of a host's ssl.log, as the adapter writes them (ISO of the Zeek `ts`). */
function eventTimes(host: 'NASHUA' | 'SCRANTON'): string[] {
  return zeekRecords(host, 'ssl')
    .map((r) => new Date(Number(r['ts']) * 1000).toISOString())
    .sort();
}

describe('certsoar hunt --workspace on the Zeek logs of two C2 servers', () => {
  let dir: string;
  let replay: CrtshReplay;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsoar-zeek-'));
    const rows = [...zeekRows('NASHUA'), ...zeekRows('SCRANTON')];
    await writeFile(join(dir, 'CommonSecurityLog.zeek.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n'));
    // crt.sh on loopback; it knows neither C2 name (an empty history, as crt.sh answers).
    replay = await startCrtshReplay({ dir: join(samples, 'crtsh'), shiftMs: 0 });
    env = { CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false' };
  });
  afterAll(async () => {
    await replay.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives one finding per C2 server, together standing for all 378 sessions, with event times and sources', async () => {
    const io = captureIo(dir, env);
    expect(await main(['hunt', '--workspace', '.', '--detection', 'T1608.003', '--now', '2020-05-01T00:00:00Z', '--json'], io), io.err).toBe(0);
    const findings = lines(io.out);
    expect(findings).toHaveLength(2);
    expect(findings.reduce((n, f) => n + f.occurrences, 0)).toBe(378);

    const nashua = findings.find((f) => f.hit.entities.destinationIp === '192.168.0.4')!;
    const nashuaTimes = eventTimes('NASHUA');
    expect(nashua).toMatchObject({
      occurrences: 376,
      firstSeen: nashuaTimes[0],
      lastSeen: nashuaTimes[nashuaTimes.length - 1],
      sources: { hosts: [{ name: '10.0.1.6', count: 376 }], accounts: [], hostsOmitted: 0, accountsOmitted: 0 },
    });
    expect(nashua.threatKey).toContain('192.168.0.4:8443');
    expect(nashua.hit.certificate?.subjectCommonName).toBe('rempel.group.net');

    const scranton = findings.find((f) => f.hit.entities.destinationIp === '192.168.0.5')!;
    expect(scranton).toMatchObject({ occurrences: 2, sources: { hosts: [{ name: '10.0.1.4', count: 2 }] } });
    expect(scranton.threatKey).toContain('192.168.0.5:443');
    expect(scranton.threatId).not.toBe(nashua.threatId);
    expect(io.err).toContain('378 hit(s) grouped into 2 threat(s)');
  });

  it('shows the rows and sources in the table, the cards and the report', async () => {
    const io = captureIo(dir, env);
    expect(await main(['hunt', '--workspace', '.', '--detection', 'T1608.003', '--now', '2020-05-01T00:00:00Z', '--out', 'out'], io), io.err).toBe(0);
    expect(io.out).toMatch(/ROWS/);
    expect(io.out).toContain('378 hit(s) → 2 finding(s) standing for 378 row(s)');
    const ndjson = lines(await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'out', 'findings.ndjson'), 'utf8')));
    const nashua = ndjson.find((f) => f.occurrences === 376)!;
    const card = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'out', 'cards', `${nashua.id}.json`), 'utf8'))) as { body: Array<{ facts?: Array<{ title: string; value: string }> }> };
    const facts = Object.fromEntries(card.body.flatMap((b) => b.facts ?? []).map((f) => [f.title, f.value]));
    expect(facts['Occurrences']).toBe('376 rows');
    expect(facts['Sources (hosts)']).toBe('10.0.1.6 ×376');
    expect(facts['First seen']).toBe(nashua.firstSeen);
    const html = await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'out', 'report.html'), 'utf8'));
    expect(html).toContain(`threat ${nashua.threatId} · 376 rows`);
  });

  it('rows of one C2 further apart than the quiet period are separate threats (separate incidents)', async () => {
    // The NASHUA beacons slow down to one every 3.6 s; a 3-second quiet period splits the later ones.
    const io = captureIo(dir, { ...env, THREAT_QUIET_PERIOD: '3s' });
    expect(await main(['hunt', '--workspace', '.', '--detection', 'T1608.003', '--now', '2020-05-01T00:00:00Z', '--json'], io), io.err).toBe(0);
    const findings = lines(io.out);
    const times = eventTimes('NASHUA').map((t) => Date.parse(t));
    const gaps = times.slice(1).filter((t, i) => t - times[i]! > 3_000).length;
    expect(gaps).toBeGreaterThan(0);
    const nashua = findings.filter((f) => f.hit.entities.destinationIp === '192.168.0.4');
    expect(nashua).toHaveLength(gaps + 1);
    expect(nashua.reduce((n, f) => n + f.occurrences, 0)).toBe(376);
    expect(new Set(nashua.map((f) => f.threatId)).size).toBe(nashua.length);
  });
});

describe('certsoar hunt --offline shows grouped findings', () => {
  it('the C2 beaconed to from two workstations is one finding with its occurrences and sources', async () => {
    const io = captureIo(process.cwd(), {});
    expect(await main(['hunt', '--offline', '--now', '2026-01-15T12:00:00Z', '--detection', 'T1608.003', '--json', '--out', await mkdtemp(join(tmpdir(), 'certsoar-demo-'))], io), io.err).toBe(0);
    const c2 = lines(io.out).filter((f) => f.hit.entities.destinationHost === 'update-check.sync-cloudnet.com');
    expect(c2).toHaveLength(1);
    expect(c2[0]).toMatchObject({
      occurrences: 6,
      firstSeen: '2026-01-15T09:42:17.512Z',
      lastSeen: '2026-01-15T10:09:50.731Z',
      sources: { hosts: [{ name: 'ws-fin-014', count: 4 }, { name: 'ws-fin-019', count: 2 }], accounts: [{ name: 'contoso\\mhernandez', count: 4 }, { name: 'contoso\\jlee', count: 2 }] },
    });
  });
});

describe('certsoar hunt --workspace: resumed TLS sessions join their C2', () => {
  it('sessions without a certificate to the C2 endpoint are counted in its one finding; elsewhere they are no finding', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certsoar-resumed-'));
    // The real NASHUA sessions, plus 40 resumed ones made from them (resumed: true, no certificate
    // chain, no subject/issuer, no validation status) and 5 resumed sessions to a server never suspicious.
    const strip = (r: Record<string, unknown>, i: number, server?: string) => {
      const { cert_chain_fuids: _c, subject: _s, issuer: _i, resp_certificate_sha1: _h, validation_status: _v, ...rest } = r;
      return { ...rest, uid: `resumed-${server ?? 'c2'}-${i}`, ts: Number(r['ts']) + 600, resumed: true, ...(server ? { id_resp_h: server, server_name: server } : {}) };
    };
    const ssl = zeekRecords('NASHUA', 'ssl');
    const resumed = [...ssl.slice(0, 40).map((r, i) => strip(r, i)), ...ssl.slice(0, 5).map((r, i) => strip(r, i, '192.168.0.77'))];
    const rows = [...zeekRows('NASHUA'), ...zeekSslToCommonSecurityLog(resumed, [])];
    await writeFile(join(dir, 'CommonSecurityLog.zeek.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const replay = await startCrtshReplay({ dir: join(samples, 'crtsh'), shiftMs: 0 });
    try {
      const io = captureIo(dir, { CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false' });
      expect(await main(['hunt', '--workspace', '.', '--detection', 'T1608.003', '--now', '2020-05-01T00:00:00Z', '--json'], io), io.err).toBe(0);
      const findings = lines(io.out);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ occurrences: 416, hit: { threat: { withoutCertificate: 40 } } });
      expect(io.err).toContain('5 session(s) without a certificate to endpoints with no suspicious certificate');
    } finally {
      await replay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
