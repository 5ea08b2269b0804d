import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import {
  loadWorkspace,
  parseCsv,
  portalDateToIso,
  rowTime,
  rowsFromCsv,
  rowsFromJson,
  rowsFromNdjson,
  tableNameFromFile,
} from '../../../shared/hunting/workspace.js';

const datasets = fileURLToPath(new URL('../../datasets/', import.meta.url));
const akamaiCsv = join(datasets, 'commonsecuritylog', 'AkamaiSIEM.csv');
const paloAltoJson = join(datasets, 'commonsecuritylog', 'PaloAltoCDLEvent.json');

describe('CSV as the Log Analytics portal exports it', () => {
  it('reads the real Akamai export: 29 rows, 152 columns, quoted fields with doubled quotes', async () => {
    const text = await readFile(akamaiCsv, 'utf8');
    const rows = rowsFromCsv(text, 'AkamaiSIEM.csv');
    expect(rows).toHaveLength(29);
    const first = rows[0]!;
    expect(first.DeviceVendor).toBe('Akamai');
    expect(first.DestinationHostName).toBe('api.sample-group.com');
    expect(first.DestinationPort).toBe('443');
    // "TimeGenerated [UTC]" becomes TimeGenerated in ISO-8601 UTC
    expect(first.TimeGenerated).toBe('2020-11-13T16:27:16.933Z');
    expect(Object.keys(first)).not.toContain('TimeGenerated [UTC]');
    // doubled quotes inside quoted fields come back as one quote; the field does not split
    const withQuotes = rows.filter((r) => String(r.AdditionalExtensions ?? '').includes('"'));
    expect(withQuotes.length).toBeGreaterThan(20);
    expect(String(first.AdditionalExtensions)).toContain('AkamaiSiemTLSVersion=tls1.2');
    expect(rows.filter((r) => String(r.AdditionalExtensions ?? '').includes('AkamaiSiemTLSVersion=tls1.2'))).toHaveLength(27);
    // every row keeps the last column
    expect(rows.every((r) => r.Type === 'CommonSecurityLog')).toBe(true);
    // empty cells are dropped, not kept as ""
    expect(Object.values(first)).not.toContain('');
  });

  it('keeps newlines, commas and quotes inside quoted fields, with LF or CRLF records', () => {
    const text =
      '\ufeffTimeGenerated [UTC],DeviceVendor,Message\r\n' +
      '"1/2/2026, 12:05:09.100 AM",Palo Alto Networks,"line one\nline two, with ""quotes"""\r\n' +
      '"12/31/2025, 11:59:59.000 PM",Zscaler,plain\n';
    const rows = rowsFromCsv(text, 't.csv');
    expect(rows).toEqual([
      { TimeGenerated: '2026-01-02T00:05:09.100Z', DeviceVendor: 'Palo Alto Networks', Message: 'line one\nline two, with "quotes"' },
      { TimeGenerated: '2025-12-31T23:59:59.000Z', DeviceVendor: 'Zscaler', Message: 'plain' },
    ]);
  });

  it('names the row whose field count does not match the header, and an unclosed quote', () => {
    expect(() => rowsFromCsv('a,b\n1,2,3\n', 'bad.csv')).toThrow(/bad\.csv:row 1: 3 fields where the header has 2/);
    expect(() => parseCsv('a,b\n"1,2\n', 'open.csv')).toThrow(ValidationError);
  });

  it('converts the portal date format and leaves ISO dates alone', () => {
    expect(portalDateToIso('11/13/2020, 4:27:16.933 PM')).toBe('2020-11-13T16:27:16.933Z');
    expect(portalDateToIso('1/1/2026, 12:00:00 PM')).toBe('2026-01-01T12:00:00.000Z');
    expect(portalDateToIso('2026-01-01T12:00:00Z')).toBe('2026-01-01T12:00:00.000Z');
    expect(portalDateToIso('yesterday')).toBeUndefined();
  });
});

describe('NDJSON and JSON', () => {
  it('reads NDJSON, skipping blank lines, and names the line that is not JSON', () => {
    expect(rowsFromNdjson('{"a":1}\n\n{"a":2}\r\n', 't.ndjson')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => rowsFromNdjson('{"a":1}\n{oops\n', 't.ndjson')).toThrow(/t\.ndjson:2: not JSON/);
    expect(() => rowsFromNdjson('[1,2]\n', 't.ndjson')).toThrow(/expected a JSON object per row/);
  });

  it('reads the real Palo Alto JSON array (28 records)', async () => {
    const rows = rowsFromJson(await readFile(paloAltoJson, 'utf8'), 'p.json');
    expect(rows).toHaveLength(28);
    expect(rows.filter((r) => r.DeviceEventClassID === 'DECRYPTION')).toHaveLength(2);
  });

  it('reads the array az monitor log-analytics query prints, dropping its TableName column', () => {
    const az = JSON.stringify([
      { DeviceName: 'ws-01', RegistryKey: 'HKLM\\X', TableName: 'PrimaryResult', TimeGenerated: '2026-01-01T00:00:00Z' },
    ]);
    expect(rowsFromJson(az, 'DeviceRegistryEvents.json')).toEqual([
      { DeviceName: 'ws-01', RegistryKey: 'HKLM\\X', TimeGenerated: '2026-01-01T00:00:00Z' },
    ]);
  });

  it('reads a Log Analytics REST answer {tables: [{columns, rows}]}', () => {
    const answer = JSON.stringify({
      tables: [
        {
          name: 'PrimaryResult',
          columns: [
            { name: 'DestinationPort', type: 'int' },
            { name: 'DestinationHostName', type: 'string' },
          ],
          rows: [
            [443, 'a.example'],
            [8443, null],
          ],
        },
      ],
    });
    expect(rowsFromJson(answer, 'x.json')).toEqual([{ DestinationPort: 443, DestinationHostName: 'a.example' }, { DestinationPort: 8443 }]);
    expect(() => rowsFromJson('{"nope":1}', 'x.json')).toThrow(/expected a JSON array/);
  });
});

describe('loadWorkspace', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsoar-ws-'));
    await copyFile(akamaiCsv, join(dir, 'CommonSecurityLog.akamai.csv'));
    await writeFile(join(dir, 'CommonSecurityLog.ndjson'), '{"DeviceVendor":"Contoso"}\n');
    await writeFile(join(dir, 'DeviceRegistryEvents.json'), '[{"DeviceName":"ws-01","TableName":"PrimaryResult"}]');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names tables by the file name up to the first dot and merges files of one table', async () => {
    const ws = await loadWorkspace(dir);
    expect([...ws.keys()].sort()).toEqual(['CommonSecurityLog', 'DeviceRegistryEvents']);
    const csl = ws.get('CommonSecurityLog')!;
    expect(csl.rows).toHaveLength(30);
    expect(csl.files.sort()).toEqual(['CommonSecurityLog.akamai.csv', 'CommonSecurityLog.ndjson']);
    expect(ws.get('DeviceRegistryEvents')!.rows).toEqual([{ DeviceName: 'ws-01' }]);
  });

  it('a file that is not a table, or a table the detections do not read, is an error naming the expected tables', async () => {
    await writeFile(join(dir, 'notes.txt'), 'not a table');
    try {
      await expect(loadWorkspace(dir)).rejects.toThrow(/notes\.txt: not a table file/);
      await expect(loadWorkspace(dir, { tables: ['CommonSecurityLog'] })).rejects.toThrow(/"DeviceRegistryEvents" is not a table the detections read \(expected: CommonSecurityLog\)/);
    } finally {
      await rm(join(dir, 'notes.txt'));
    }
  });

  it('fails with a ValidationError for a directory that does not exist', async () => {
    await expect(loadWorkspace(join(dir, 'missing'))).rejects.toBeInstanceOf(ValidationError);
  });

  it('tableNameFromFile and rowTime', () => {
    expect(tableNameFromFile('/x/DeviceFileEvents.2026-01.ndjson')).toBe('DeviceFileEvents');
    expect(rowTime({ TimeGenerated: '2026-01-01T00:00:00Z' })).toBe(Date.UTC(2026, 0, 1));
    expect(rowTime({ Timestamp: '2026-01-02T00:00:00Z' })).toBe(Date.UTC(2026, 0, 2));
    expect(rowTime({ Other: 'x' })).toBeUndefined();
  });
});
