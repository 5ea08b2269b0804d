import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { type CrtshReplay, startCrtshReplay } from '../../cli/offline/crtsh-replay.js';
import type { Row } from '../../shared/model.js';
import { captureIo } from '../helpers/cli-io.js';

/**
 * Issue 14, first bullet: every folder below printed "no findings" (or a cryptic error) with
 * exit 0 before. Through `certsoar hunt --workspace`, against the sample firewall rows.
 */
const ANCHOR = '2026-01-15T12:00:00Z';
const samples = fileURLToPath(new URL('../../samples/', import.meta.url));
let root: string;
let replay: CrtshReplay;
let sampleText: string;
let sampleRows: Row[];
let baseline: number;

async function hunt(files: Record<string, string | Buffer>, extra: string[] = []) {
  const dir = await mkdtemp(join(root, 'ws-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const io = captureIo({ CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false' }, { cwd: dir });
  const code = await main(['hunt', '--workspace', dir, '--detection', 'T1608.003', '--now', ANCHOR, '--json', ...extra], io);
  return { code, findings: io.out().split('\n').filter(Boolean).length, err: io.err() };
}

function csv(rows: Row[], separator: string): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined ? '' : `"${String(v).replace(/"/g, '""')}"`);
  return [columns.join(separator), ...rows.map((r) => columns.map((c) => cell(r[c])).join(separator))].join('\r\n');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certsoar-input-'));
  replay = await startCrtshReplay({ dir: join(samples, 'crtsh'), shiftMs: 0 });
  sampleText = await readFile(join(samples, 'workspace', 'CommonSecurityLog.ndjson'), 'utf8');
  sampleRows = sampleText.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  const r = await hunt({ 'CommonSecurityLog.ndjson': sampleText });
  expect(r.code, r.err).toBe(0);
  baseline = r.findings;
  expect(baseline).toBeGreaterThan(3);
});
afterAll(async () => {
  await replay.close();
  await rm(root, { recursive: true, force: true });
});

describe('certsoar hunt --workspace: what it reads', () => {
  it.each([
    ['a lower-case table name', 'commonsecuritylog.ndjson'],
    ['a tab-separated export', 'CommonSecurityLog.tsv'],
    ['a gzip-compressed export', 'CommonSecurityLog.ndjson.gz'],
  ])('%s gives the same findings', async (_, name) => {
    const content = name.endsWith('.tsv') ? csv(sampleRows, '\t') : name.endsWith('.gz') ? gzipSync(sampleText) : sampleText;
    const r = await hunt({ [name]: content });
    expect(r.code, r.err).toBe(0);
    expect(r.findings).toBe(baseline);
  });

  it('a semicolon CSV (Excel in a comma-decimal locale) gives the same findings', async () => {
    const r = await hunt({ 'CommonSecurityLog.csv': csv(sampleRows, ';') });
    expect(r.code, r.err).toBe(0);
    expect(r.findings).toBe(baseline);
  });

  it.each([
    ['UTF-16 LE with BOM (az … > file.json in Windows PowerShell 5.1)', (t: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])],
    ['UTF-16 BE with BOM', (t: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()])],
    ['UTF-16 LE without BOM', (t: string) => Buffer.from(t, 'utf16le')],
    ['UTF-8 with BOM', (t: string) => Buffer.from(`\ufeff${t}`, 'utf8')],
  ])('%s', async (_, encode) => {
    const r = await hunt({ 'CommonSecurityLog.json': encode(JSON.stringify(sampleRows, null, 2)) });
    expect(r.code, r.err).toBe(0);
    expect(r.findings).toBe(baseline);
  });

  it('says per table how many rows it read, used and skipped, and why', async () => {
    const r = await hunt({ 'CommonSecurityLog.ndjson': sampleText, 'DeviceRegistryEvents.ndjson': '{"DeviceName":"ws-01","RegistryKey":"HKLM\\\\x"}\n' }, ['--since', '3h']);
    expect(r.code, r.err).toBe(0);
    // In the last 3 hours: the C2 session at 09:42 and its five beacons to 10:10 (one finding), the
    // Cobalt Strike row and example.com are the 8 hits; two more rows in the window are not hits.
    expect(r.err).toMatch(new RegExp(`^CommonSecurityLog: ${sampleRows.length} row\\(s\\) read, 10 used, ${sampleRows.length - 10} skipped \\(${sampleRows.length - 10} older than --since 3h\\), 8 hit\\(s\\)$`, 'm'));
    expect(r.err).toContain('8 hit(s) grouped into 3 threat(s)');
    expect(r.err).toMatch(/^DeviceRegistryEvents: 1 row\(s\) read, 0 used, 1 skipped \(1 no selected detection reads this table\), 0 hit\(s\)$/m);
  });
});

describe('certsoar hunt --workspace: what it refuses (exit 1, never "no findings")', () => {
  it.each([
    ['a misspelt table name', { 'CommonSecurityLogs.ndjson': '{}\n' }, /"CommonSecurityLogs" is not a table the detections read; did you mean "CommonSecurityLog"\? \(expected: CommonSecurityLog, DeviceRegistryEvents, DeviceProcessEvents, DeviceFileEvents\)/],
    ['a .txt export', { 'CommonSecurityLog.txt': 'x' }, /CommonSecurityLog\.txt: not a table file: expected <Table>\.ndjson, \.jsonl, \.json, \.csv or \.tsv/],
    ['a raw Zeek folder', { 'ssl.log': '#separator \\x09\n#fields\tts\n', 'x509.log': '#separator \\x09\n' }, /ssl\.log: a raw Zeek log/],
    ['a Zeek log renamed as a table', { 'CommonSecurityLog.csv': '#separator \\x09\n#fields\tts\n' }, /a raw Zeek log/],
    ['an empty folder', {}, /no table files; expected files named after tables \(expected: CommonSecurityLog/],
    ['another table\'s header under this name', { 'CommonSecurityLog.csv': 'TimeGenerated [UTC],DeviceName,FileName,FolderPath,ProcessCommandLine\n"1/15/2026, 10:00:00.000 AM",ws-01,openssl.exe,C:\\x,openssl req\n' }, /none of the columns CommonSecurityLog detections read .* is in its header; it looks like DeviceProcessEvents/],
  ])('%s', async (_, files, message) => {
    const r = await hunt(files as Record<string, string>);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.findings).toBe(0);
  });

  it('a sub-folder of exports is named, not silently skipped', async () => {
    const dir = await mkdtemp(join(root, 'nested-'));
    await mkdir(join(dir, '2026-01-15'));
    await writeFile(join(dir, '2026-01-15', 'CommonSecurityLog.ndjson'), sampleText);
    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--workspace', dir], io)).toBe(1);
    expect(io.err()).toContain('(1 sub-folder(s) are not read)');
  });
});
