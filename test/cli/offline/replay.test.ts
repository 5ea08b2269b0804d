import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrtshReplay, startCrtshReplay } from '../../../cli/offline/crtsh-replay.js';
import { shiftText, shiftTimestamps } from '../../../cli/offline/rebase.js';
import { createCrtshClient } from '../../../shared/enrichment/crtsh-client.js';
import { type TestCert, makeCert } from '../../helpers/certs.js';

const DAY = 86_400_000;

describe('rebase', () => {
  it('moves ISO timestamps and keeps each one\'s format', () => {
    expect(shiftText('2026-01-15T12:00:00Z', DAY)).toBe('2026-01-16T12:00:00Z');
    expect(shiftText('2026-01-15T12:00:00.123Z', -DAY)).toBe('2026-01-14T12:00:00.123Z');
    expect(shiftText('2026-01-15T23:30:00', 3_600_000)).toBe('2026-01-16T00:30:00'); // crt.sh: UTC without zone
    expect(shiftText('2026-01-15T12:00:00.1234567Z', 0)).toBe('2026-01-15T12:00:00.1234567Z');
    expect(shiftText('a=1;PanOSTimeNotBefore=2026-01-01T00:00:00Z;b=2026-01-02T00:00:00.5Z', DAY)).toBe('a=1;PanOSTimeNotBefore=2026-01-02T00:00:00Z;b=2026-01-03T00:00:00.5Z');
    expect(shiftText('not a time: 2026-01-15', DAY)).toBe('not a time: 2026-01-15');
  });

  it('moves every string in a row and leaves other values alone', () => {
    const row = { TimeGenerated: '2026-01-15T12:00:00Z', DestinationPort: 443, nested: ['2026-01-15T00:00:00'], flag: true, none: null };
    expect(shiftTimestamps(row, DAY)).toEqual({ TimeGenerated: '2026-01-16T12:00:00Z', DestinationPort: 443, nested: ['2026-01-16T00:00:00'], flag: true, none: null });
  });
});

describe('crt.sh replay, answering the real client on 127.0.0.1', () => {
  let dir: string;
  let replay: CrtshReplay;
  let recorded: TestCert;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsoar-replay-'));
    await writeFile(
      join(dir, 'contoso.com.json'),
      JSON.stringify([
        { issuer_ca_id: 5478, issuer_name: 'C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1', common_name: 'www.contoso.com', name_value: 'contoso.com\nwww.contoso.com', id: 101, entry_timestamp: '2026-01-10T01:00:02.417', not_before: '2026-01-10T00:00:00', not_after: '2027-01-09T23:59:59', serial_number: '06d8' },
      ]),
    );
    recorded = await makeCert({ subject: 'CN=recorded.contoso.com' });
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs', '4242.pem'), recorded.certPem);
    replay = await startCrtshReplay({ dir, shiftMs: 2 * DAY });
  });
  afterAll(async () => {
    await replay.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = () => createCrtshClient({ baseUrl: replay.baseUrl, timeoutMs: 5_000, concurrency: 2, maxAttempts: 1, now: () => new Date('2026-01-15T12:00:00Z') });

  it('serves the recorded history of the registrable domain, dates moved by the shift', async () => {
    const history = await client().history('contoso.com');
    expect(history.certs).toHaveLength(1);
    expect(history.certs[0]![2] * 1000).toBe(Date.parse('2026-01-12T00:00:00Z'));
    expect(replay.requests.at(-1)).toMatch(/^\/\?q=%25\.contoso\.com&output=json/);
  });

  it('answers [] for a domain nothing was recorded for', async () => {
    expect((await client().history('unknown-domain.net')).certs).toEqual([]);
  });

  it('finds a recorded certificate by SHA-1 (page, then PEM) and by SHA-256; others are not found', async () => {
    const c = client();
    expect(await c.bySha1(recorded.sha1)).toMatchObject({ found: true, crtshId: '4242', subject: 'CN=recorded.contoso.com' });
    expect(await c.bySha256(recorded.sha256)).toMatchObject({ found: true, subject: 'CN=recorded.contoso.com' });
    expect(await c.bySha1('0'.repeat(40))).toEqual({ found: false });
    expect(await c.bySha256('0'.repeat(64))).toEqual({ found: false });
  });

  it('listens on loopback only', () => {
    expect(new URL(replay.baseUrl).hostname).toBe('127.0.0.1');
  });
});
