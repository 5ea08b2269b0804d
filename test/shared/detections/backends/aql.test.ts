import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grammars } from '../../../../devtools/grammars/parsers.js';
import { aqlQueries } from '../../../../shared/detections/backends/aql.js';
import { durationMinutes } from '../../../../shared/detections/backends/plan.js';
import { DETECTIONS } from '../../../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';
import { TUNED, TUNINGS } from './tunings.js';

/** QRadar custom event properties are Java regexes; the ones generated use only syntax Java and JavaScript share. */
function property(name: string, tuning = DEFAULT_TUNING): RegExp {
  const p = aqlQueries(tuning)[0]?.properties.find((x) => x.name === name);
  if (!p) throw new Error(`no property ${name}`);
  return new RegExp(p.regex);
}

describe('AQL backend', () => {
  it.each(TUNINGS)('every query parses with the AQL grammar (%s tuning)', (_name, tuning) => {
    const queries = aqlQueries(tuning);
    expect(queries.map((q) => q.detectionId)).toEqual(DETECTIONS.map((d) => d.meta.id));
    for (const [i, q] of queries.entries()) {
      const minutes = durationMinutes(DETECTIONS[i]?.meta.queryFrequency ?? '');
      expect(grammars().aql.parse(q.query), q.detectionId).toMatchObject({ ok: true, ast: { source: 'events', time: { last: minutes, unit: 'MINUTES' } } });
    }
  });

  it('scores the TLS certificate, not URL strings, with the weights, threshold and levels of the KQL', () => {
    const q = aqlQueries(DEFAULT_TUNING)[0]?.query ?? '';
    expect(q).not.toMatch(/payload/i);
    expect(q).toContain('LOWER("TLS Subject") = LOWER("TLS Issuer") THEN 3 ELSE 0 END');
    expect(q).toMatch(/THEN 2 ELSE 0 END AS 'signal_hostname_mismatch'/);
    expect(q).toMatch(/THEN 2 ELSE 0 END AS 'signal_placeholder_cn'/);
    expect(q).toMatch(/\) > 1\n/);
    expect(q).toContain("WHEN (CASE");
    expect(q).toContain(">= 5 THEN 'High'");
  });

  it('follows the tuning document', () => {
    const [tls, registry] = aqlQueries(TUNED);
    expect(tls?.query).toContain('destinationport IN (443, 9443)');
    expect(tls?.query).toContain("(\"TLS Issuer\" IS NULL OR NOT (LOWER(\"TLS Issuer\") IN ('corp issuing ca')))");
    expect(tls?.query).toMatch(/\) > 2\n/);
    expect(tls?.properties.find((p) => p.name === 'TLS Subject')?.regex).toContain('x_cert_subject');
    expect(registry?.query).toContain('(root|ca|trustedpublisher)');
    expect(registry?.query).toContain('0123456789abcdef0123456789abcdef01234567');
  });

  it('doubles single quotes inside AQL strings', () => {
    const q = aqlQueries(TUNED)[2]?.query ?? '';
    expect(q).toContain("o''brien");
    expect(grammars().aql.parse(q)).toMatchObject({ ok: true });
  });

  it('documents what AQL cannot express, the wildcard host check first', () => {
    const [tls] = aqlQueries(DEFAULT_TUNING);
    expect(tls?.limitations.join('\n')).toMatch(/published.*URL strings/);
    expect(tls?.limitations.join('\n')).toMatch(/wildcard CN/);
  });

  it("defines the subject, issuer and SNI properties for the vendors' documented formats", () => {
    // FortiOS syslog (FortiOS Log Message Reference): key="value" pairs.
    const forti = 'date=2026-11-29 time=10:00:00 devname="fw1" type="utm" subtype="ssl" action="passthrough" dstport=443 scertcname="localhost" scertissuer="localhost" sni="api.example.org" msg="x"';
    expect(property('TLS Subject').exec(forti)?.[1]).toBe('localhost');
    expect(property('TLS Issuer').exec(forti)?.[1]).toBe('localhost');
    expect(property('TLS SNI').exec(forti)?.[1]).toBe('api.example.org');
    // PAN-OS CEF (decryption log; '=' inside values escaped as \= per the CEF spec).
    const pan = 'CEF:0|Palo Alto Networks|PAN-OS|10.2|decryption|DECRYPTION|1|PanOSCommonName=CN\\=evil.example.com, O\\=Bad PanOSIssuerCommonName=Bad CA PanOSServerNameIndication=www.example.net dpt=443';
    expect(property('TLS Subject CN').exec(pan)?.[1]).toBe('evil.example.com');
    expect(property('TLS Issuer').exec(pan)?.[1]).toBe('Bad CA');
    expect(property('TLS SNI').exec(pan)?.[1]).toBe('www.example.net');
    // Sentinel's CommonSecurityLog AdditionalExtensions for Palo Alto CDL (vendored sample).
    const cdl = JSON.parse(readFileSync(new URL('../../../datasets/commonsecuritylog/PaloAltoCDLEvent.json', import.meta.url), 'utf8')) as Array<{ AdditionalExtensions?: string }>;
    const ext = cdl.map((r) => r.AdditionalExtensions ?? '').find((e) => e.includes('PanOSCommonName=')) ?? '';
    expect(property('TLS Subject').exec(ext)?.[1]).toBe('some_value');
    expect(property('TLS SNI').exec(ext)?.[1]).toBe('some_value');
  });
});

describe('AQL null handling', () => {
  it('keeps events that lack the action or allowlisted property (SQL: NOT (NULL IN …) is not true)', () => {
    const [tls, registry] = aqlQueries(TUNED);
    expect(tls?.query).toContain(`("Device Action" IS NULL OR NOT (LOWER("Device Action") IN ('deny', 'drop')))`);
    expect(registry?.query).toMatch(/AND \("Image" IS NULL OR NOT \(/);
    const action = new RegExp(aqlQueries(DEFAULT_TUNING)[0]?.properties.find((p) => p.name === 'Device Action')?.regex ?? '^$');
    expect(action.exec('CEF:0|Palo Alto Networks|PAN-OS|10.2|decryption|x|1|act=allow dpt=443')?.[1]).toBe('allow');
    expect(action.exec('type="traffic" action="deny" dstport=443')?.[1]).toBe('deny');
  });
});

describe('AQL hunt form over one slice', () => {
  const slice = { start: new Date('2026-11-20T10:00:30Z'), end: new Date('2026-11-20T10:15:10Z') };
  it('replaces the schedule interval by the exact starttime guard and START/STOP, and still parses', async () => {
    const { aqlQuery } = await import('../../../../shared/detections/backends/aql.js');
    for (const d of DETECTIONS) {
      const q = aqlQuery(d, DEFAULT_TUNING, slice).query;
      expect(q, d.meta.id).not.toMatch(/LAST \d+ MINUTES/);
      expect(q, d.meta.id).toContain(`AND starttime >= ${slice.start.getTime()} AND starttime < ${slice.end.getTime()}\nORDER BY devicetime DESC\nSTART '2026-11-20 10:00Z' STOP '2026-11-20 10:15Z'`);
      expect(grammars().aql.parse(q), d.meta.id).toMatchObject({ ok: true, ast: { source: 'events' } });
    }
  });
});
