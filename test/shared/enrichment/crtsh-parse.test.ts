import { describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../../shared/errors.js';
import { normaliseSerial } from '../../../shared/enrichment/crtsh-records.js';
import { parseCrtshBody, splitConcatenatedJson } from '../../../shared/enrichment/crtsh-parse.js';
import { dataset } from '../../helpers/crtsh-stand-in.js';

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
    expect(() => parseCrtshBody('{"a":1}{"b":')).toThrow(/malformed JSON/);
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

describe('splitConcatenatedJson', () => {
  it('splits back-to-back objects, ignoring braces inside strings', () => {
    expect(splitConcatenatedJson('{"a":"}{"}{"b":1}\n{"c":[1,{"d":2}]}')).toEqual(['{"a":"}{"}', '{"b":1}', '{"c":[1,{"d":2}]}']);
  });
  it('rejects junk between objects and unterminated input', () => {
    expect(() => splitConcatenatedJson('{"a":1}x{"b":2}')).toThrow(SyntaxError);
    expect(() => splitConcatenatedJson('{"a":"1')).toThrow(SyntaxError);
  });
});

describe('normaliseSerial', () => {
  it('compares serials as numbers', () => {
    expect(normaliseSerial('0C:1F:CB')).toBe('c1fcb');
    expect(normaliseSerial('000')).toBe('0');
    expect(normaliseSerial('')).toBeUndefined();
  });
});
