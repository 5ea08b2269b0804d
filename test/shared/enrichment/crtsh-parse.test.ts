import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../../shared/errors.js';
import { normaliseSerial } from '../../../shared/enrichment/crtsh-records.js';
import { parseCrtshBody } from '../../../shared/enrichment/crtsh-parse.js';
import { CrtshRecordStream } from '../../../shared/enrichment/crtsh-stream.js';
import { dataset, syntheticHistory } from '../../helpers/crtsh-stand-in.js';

describe('parseCrtshBody on real crt.sh answers', () => {
  it('reads the current format with a null entry_timestamp and UTC times', () => {
    const { records, rawRows } = parseCrtshBody(dataset('example.com.json'));
    expect(rawRows).toBe(22);
    expect(records).toHaveLength(22);
    const first = records[0]!;
    expect(first).toMatchObject({ crtshId: 8913351873, issuerCaId: 185756, commonName: 'www.example.org', serialNumber: 'c1fcb184518c7e3866741236d6b73f1' });
    expect(first.names).toEqual(['example.com', 'www.example.com']);
    expect(first.notBefore).toBe('2023-01-13T00:00:00Z');
    expect(new Date(first.notBefore).toISOString()).toBe('2023-01-13T00:00:00.000Z');
    const nullEntry = records.find((r) => r.crtshId === 10570508844);
    expect(nullEntry?.entryTimestamp).toBeUndefined();
  });

  it('reads "Issuer Not Found" rows and quoted issuer DNs', () => {
    const wildcard = parseCrtshBody(dataset('example.com_wildcard.json')).records;
    expect(wildcard.some((r) => r.issuerCaId === -1 && r.issuerName === 'Issuer Not Found')).toBe(true);
    const counted = parseCrtshBody(dataset('result_count_example.json')).records;
    expect(counted).toHaveLength(2);
    expect(counted[0]!.issuerName).toBe('C=US, O="thawte, Inc.", CN=thawte SSL CA - G2');
    expect(counted[0]!.names).toEqual(['json handels aktiebolag']);
  });

  it('reads the legacy concatenated-object answer (min_cert_id, no serial)', () => {
    const { records, rawRows } = parseCrtshBody(dataset('reddit.com.jsonlist'));
    expect(rawRows).toBe(175);
    expect(records.filter((r) => r.names.includes('*.reddit.com'))).toHaveLength(157);
    expect(records[0]).toMatchObject({ crtshId: 675325991, entryTimestamp: '2018-08-25T14:59:43.301Z' });
    expect(records.every((r) => r.serialNumber === undefined)).toBe(true);
    expect(new Set(records.map((r) => r.issuerName)).size).toBe(9);
  });

  it('treats an HTML page with status 200 as an upstream failure', () => {
    expect(() => parseCrtshBody('<!DOCTYPE html><html><head><title>crt.sh | ERROR!</title></head></html>')).toThrow(UpstreamUnavailableError);
    expect(() => parseCrtshBody('<html>oops</html>')).toThrow(/HTML page/);
  });

  it('treats malformed JSON and rows of the wrong shape as upstream failures', () => {
    expect(() => parseCrtshBody('[{"issuer_ca_id":1,')).toThrow(/malformed JSON/);
    expect(() => parseCrtshBody('{"a":1}{"b":')).toThrow(UpstreamUnavailableError);
    expect(() => parseCrtshBody('[{"issuer_ca_id":"x"}]')).toThrow(/unexpected shape/);
    expect(() => parseCrtshBody('[{"issuer_ca_id":1,"issuer_name":"x","not_before":"2020-01-01T00:00:00+02:00","not_after":"2020-01-01T00:00:00","id":1}]')).toThrow(
      /unexpected shape/,
    );
  });

  it('answers no records for an empty body or an empty array', () => {
    expect(parseCrtshBody('').records).toEqual([]);
    expect(parseCrtshBody('[]').records).toEqual([]);
  });
});

describe('CrtshRecordStream (records as they arrive)', () => {
  const chunked = (text: string, size: number, maxRecords = Number.POSITIVE_INFINITY) => {
    const stream = new CrtshRecordStream(maxRecords);
    for (let i = 0; i < text.length && !stream.full; i += size) stream.push(text.slice(i, i + size));
    stream.end();
    return stream;
  };

  it.each([1, 7, 64, 4096])('gives the same records whatever the chunk size (%i chars), array and back-to-back answers', (size) => {
    for (const name of ['example.com.json', 'reddit.com.jsonlist']) {
      const whole = parseCrtshBody(dataset(name));
      const parts = chunked(dataset(name), size);
      expect(parts.records).toEqual(whole.records);
      expect(parts.rawRows).toBe(whole.rawRows);
    }
  });

  it('stops at the record cap without reading further', () => {
    const text = syntheticHistory('cap.test', 50);
    const stream = chunked(text, 100, 10);
    expect(stream.records).toHaveLength(10);
    expect(stream.full).toBe(true);
  });

  it('braces inside strings do not end a record; junk between records and unterminated input are malformed', () => {
    const row = (id: number, cn: string) => JSON.stringify({ issuer_ca_id: 1, issuer_name: 'x', common_name: cn, id, not_before: '2020-01-01T00:00:00', not_after: '2021-01-01T00:00:00' });
    expect(parseCrtshBody(`${row(1, '}{"]')}\n${row(2, '[{')}`).records.map((r) => r.commonName)).toEqual(['}{"]', '[{']);
    expect(() => parseCrtshBody(`${row(1, 'a')}x${row(2, 'b')}`)).toThrow(/between records/);
    expect(() => parseCrtshBody(`[${row(1, 'a')} ${row(2, 'b')}]`)).toThrow(/between records/);
    expect(() => parseCrtshBody('{"a":"1')).toThrow(/end of input/);
    expect(() => parseCrtshBody(`[${row(1, 'a')}]]`)).toThrow(/between records/);
  });
});

describe('normaliseSerial', () => {
  it('compares serials as numbers', () => {
    expect(normaliseSerial('0C:1F:CB')).toBe('c1fcb');
    expect(normaliseSerial('000')).toBe('0');
    expect(normaliseSerial('')).toBeUndefined();
  });
});
