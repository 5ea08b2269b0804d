import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { detectionParams, hitFromRow } from '../../../shared/detections/index.js';
import { computeColumns } from '../../../shared/detections/backends/evaluator.js';
import { t1608003, t1608003Definition } from '../../../shared/detections/definitions/t1608-003.js';
import { score } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { zeekSslToCommonSecurityLog } from '../../../shared/detections/adapters/zeek.js';
import { akamaiRows, paloAltoRows, zeekRecords, zeekRows, zscalerFortinetRows } from './fixtures/datasets.js';

const defaults = t1608003.paramsSchema.parse({});
const row = (over: Record<string, unknown>) => ({
  TimeGenerated: '2026-11-20T10:00:00Z',
  DeviceVendor: 'Check Point',
  DeviceAction: 'accept',
  SourceIP: '10.1.1.1',
  DestinationIP: '203.0.113.9',
  DestinationPort: 443,
  ...over,
});
/** What the query computes for a row (filters ignored), as the certificate fields the tests read. */
const tlsCertificateFields = (r: Record<string, unknown>, params = defaults) => {
  const c = computeColumns(t1608003Definition, params, r);
  return { subject: c['TLSSubject'], issuer: c['TLSIssuer'], subjectCn: c['SubjectCN'], destinationHost: c['DestinationHost'] };
};
/** Whether the certificate names (first as the CN, the rest as SANs) cover the host, as the query decides it. */
const namesCoverHost = (names: string[], host: string) => {
  const san = names.length > 1 ? `;ssl_san=${names.slice(1).map((n) => `DNS:${n}`).join(', ')}` : '';
  return computeColumns(t1608003Definition, defaults, row({ DestinationHostName: host, AdditionalExtensions: `ssl_subject=CN=${names[0]}${san}` }))['CertCoversHost'];
};
const signalsOf = (r: Record<string, unknown>, params = defaults) => t1608003.evaluate(r, params)?.signals.map((s) => s.id) ?? null;

describe('wildcard semantics', () => {
  it('covers exactly one label, case-insensitively', () => {
    expect(namesCoverHost(['*.example.com'], 'a.example.com')).toBe(true);
    expect(namesCoverHost(['*.EXAMPLE.com'], 'a.example.com')).toBe(true);
    expect(namesCoverHost(['*.example.com'], 'example.com')).toBe(false);
    expect(namesCoverHost(['*.example.com'], 'a.b.example.com')).toBe(false);
    expect(namesCoverHost(['example.com'], 'www.example.com')).toBe(false);
    expect(namesCoverHost(['www.example.com'], 'www.example.com')).toBe(true);
  });

  it('reports a mismatch only where the certificate names do not cover the host', () => {
    const selfSignedWildcard = (host: string, san?: string) =>
      signalsOf(row({ DestinationHostName: host, AdditionalExtensions: `ssl_subject=CN=*.acme.com;ssl_issuer=CN=*.acme.com${san ? `;ssl_san=${san}` : ''}` }));
    expect(selfSignedWildcard('A.Acme.COM')).toEqual(['self_signed']);
    expect(selfSignedWildcard('acme.com')).toEqual(['self_signed', 'hostname_mismatch']);
    expect(selfSignedWildcard('a.b.acme.com')).toEqual(['self_signed', 'hostname_mismatch']);
    expect(selfSignedWildcard('acme.com', 'DNS:*.acme.com, DNS:acme.com')).toEqual(['self_signed']);
    expect(selfSignedWildcard('www.acme.com.')).toEqual(['self_signed']);
  });

  it('does not compare names with an IP-address destination', () => {
    expect(signalsOf(row({ DestinationHostName: '203.0.113.9', AdditionalExtensions: 'ssl_subject=CN=c2.evil.net;ssl_issuer=CN=c2.evil.net' }))).toEqual(['self_signed']);
  });

  it('takes the host from the SNI when the log has no DestinationHostName', () => {
    const r = row({ AdditionalExtensions: 'PanOSCommonName=a.net;PanOSIssuerCommonName=a.net;PanOSServerNameIndication=b.net' });
    expect(signalsOf(r)).toEqual(['self_signed', 'hostname_mismatch']);
    expect(t1608003.evaluate(r, defaults)?.entities.domains).toEqual(['b.net', 'a.net']);
  });
});

describe('blank values before a coalesce (issue 10: the host the KQL used to drop)', () => {
  it('a DestinationHostName of spaces gives way to the SNI, in the evaluator and in the query text', () => {
    const r = row({ DestinationHostName: '   ', AdditionalExtensions: 'ssl_subject=CN=x.evil.net;ssl_issuer=CN=x.evil.net;ssl_sni=www.bank.example' });
    const hit = t1608003.evaluate(r, defaults);
    expect(hit?.signals.map((s) => s.id)).toEqual(['self_signed', 'hostname_mismatch']);
    expect(hit?.entities.destinationHost).toBe('www.bank.example');
    // Each candidate is cleaned inside the coalesce, so Kusto's coalesce skips the emptied blank.
    expect(t1608003.buildQuery(defaults)).toMatch(/extend DestinationHost = tolower\(trim_end\(@'\\\.\+', coalesce\(iff\(trim\(@'\[ \\t\\r\\n\]\+', DestinationHostName\)/);
  });

  it('"n/a" and "-" markers are blanks too', () => {
    for (const blank of ['n/a', ' - ', 'NULL']) {
      expect(t1608003.evaluate(row({ DestinationHostName: blank, AdditionalExtensions: 'ssl_subject=CN=a.net;ssl_issuer=CN=a.net;ssl_sni=b.net' }), defaults)?.entities.destinationHost).toBe('b.net');
    }
  });

  it('the same session at another time is another hit (the key carries the event time)', () => {
    const r = row({ DestinationHostName: 'x.evil.net', AdditionalExtensions: 'ssl_subject=CN=x.evil.net;ssl_issuer=CN=x.evil.net' });
    expect(t1608003.evaluate(r, defaults)?.key).not.toBe(t1608003.evaluate({ ...r, TimeGenerated: '2026-11-20T10:05:00Z' }, defaults)?.key);
    expect(t1608003.evaluate(r, defaults)?.key).toBe(t1608003.evaluate({ ...r }, defaults)?.key);
  });
});

describe('placeholder common names', () => {
  const cnSignals = (cn: string) => signalsOf(row({ DestinationHostName: cn.includes('.') ? cn : undefined, AdditionalExtensions: `ssl_subject=CN=${cn};ssl_issuer=CN=Some CA` }), { ...defaults, minScore: 0 });
  it('matches whole-name patterns and whole words only', () => {
    expect(cnSignals('localhost')).toEqual(['placeholder_cn']);
    expect(cnSignals('staging-api.corp.net')).toEqual(['placeholder_cn']);
    expect(cnSignals('test-server.corp.net')).toEqual(['placeholder_cn']);
    expect(cnSignals('Default')).toEqual(['placeholder_cn']);
    expect(cnSignals('foo.invalid')).toEqual(['placeholder_cn']);
    expect(cnSignals('latest.app.net')).toBeNull();
    expect(cnSignals('contest.example.org')).toBeNull();
  });
});

describe('filters and parameters', () => {
  const selfSigned = row({ DestinationHostName: 'x.evil.net', AdditionalExtensions: 'ssl_subject=CN=x.evil.net;ssl_issuer=CN=x.evil.net' });
  it('excludes blocked actions case-insensitively and keeps allowed ones', () => {
    for (const action of ['deny', 'Blocked', 'DROP', 'reset-both', 'Reset-Server', 'reset-client']) {
      expect(t1608003.evaluate({ ...selfSigned, DeviceAction: action }, defaults)).toBeNull();
    }
    expect(t1608003.evaluate({ ...selfSigned, DeviceAction: 'allow' }, defaults)).not.toBeNull();
    expect(t1608003.evaluate({ ...selfSigned, DeviceAction: undefined }, defaults)).not.toBeNull();
  });

  it('reads tuning overrides: ports, weights, threshold, allowlists', () => {
    const tuning = parseTuning({ detections: { 'T1608.003': { tlsPorts: [9443], weights: { self_signed: 1.5 }, minScore: 1, allowedIssuers: ['CN=allowed.net'] } } });
    const params = detectionParams(t1608003, tuning) as typeof defaults;
    expect(t1608003.evaluate(selfSigned, params)).toBeNull(); // 443 is no longer a TLS port
    const on9443 = { ...selfSigned, DestinationPort: '9443' };
    expect(t1608003.evaluate(on9443, params)?.signals).toEqual([{ id: 'self_signed', points: 1.5, reason: expect.any(String) }]);
    expect(t1608003.evaluate({ ...on9443, AdditionalExtensions: 'ssl_subject=CN=allowed.net;ssl_issuer=CN=allowed.net' }, params)).toBeNull();
    const kql = t1608003.buildQuery(params);
    expect(kql).toContain('let TlsPorts = dynamic([9443]);');
    expect(kql).toContain("iff(IsSelfSigned, 1.5, real(0))");
    expect(kql).toContain("let AllowedIssuers = dynamic([@'CN=allowed.net']);");
  });

  it('surfaces only scores above minScore', () => {
    const mismatchOnly = row({ DestinationHostName: 'a.corp.net', AdditionalExtensions: 'ssl_subject=CN=b.corp.net;ssl_issuer=CN=Public CA' });
    expect(signalsOf(mismatchOnly)).toEqual(['hostname_mismatch']);
    expect(signalsOf(mismatchOnly, { ...defaults, minScore: 2 })).toBeNull();
  });

  it('rejects unknown or invalid parameters with the failing path', () => {
    expect(() => detectionParams(t1608003, parseTuning({ detections: { 'T1608.003': { tlsPort: [1] } } }))).toThrow(ValidationError);
    expect(() => detectionParams(t1608003, parseTuning({ detections: { 'T1608.003': { lookback: 'yesterday' } } }))).toThrow(/tuning\.detections\.T1608\.003\.lookback/);
  });
});

describe('over the real vendor samples', () => {
  it('Palo Alto CDL: extracts the DECRYPTION certificate fields; the denied sessions on port 20122 never surface', () => {
    const rows = paloAltoRows();
    expect(rows).toHaveLength(28);
    expect(rows.map((r) => t1608003.evaluate(r, defaults)).filter(Boolean)).toHaveLength(0);
    const decryption = rows.filter((r) => r['DeviceEventClassID'] === 'DECRYPTION');
    expect(decryption).toHaveLength(2);
    for (const r of decryption) {
      expect(r['DeviceAction']).toBe('deny');
      expect(tlsCertificateFields(r, defaults)).toMatchObject({ subject: 'some_value', issuer: 'some_value', subjectCn: 'some_value', destinationHost: 'some_value' });
    }
    // With the action and port filters opened up, the sample's placeholder certificate (subject = issuer) is self-signed.
    const open = { ...defaults, excludedActions: [], tlsPorts: [20122] };
    const hits = decryption.map((r) => t1608003.evaluate(r, open));
    expect(hits.map((h) => h?.signals.map((s) => s.id))).toEqual([['self_signed'], ['self_signed']]);
    expect(hits[0]?.certificate).toMatchObject({ subject: 'some_value', issuer: 'some_value', serialNumber: 'some_value', selfSigned: true });
    expect(hits[0]?.certificate?.notBefore).toBeUndefined(); // PanOSTimeNotBefore=0 means not logged
  });

  it('Palo Alto CDL: no other record yields a certificate subject (DeviceCustomString3 is the virtual system there)', () => {
    const withSubject = paloAltoRows().filter((r) => tlsCertificateFields(r, defaults).subject !== '');
    expect(withSubject.map((r) => r['DeviceEventClassID'])).toEqual(['DECRYPTION', 'DECRYPTION']);
  });

  it('Zscaler and Fortinet: web and RDP records carry no certificate, so nothing surfaces', () => {
    const rows = zscalerFortinetRows();
    expect(rows.map((r) => r['DeviceVendor'])).toEqual(['Fortinet', 'Zscaler']);
    expect(rows.map((r) => t1608003.evaluate(r, defaults))).toEqual([null, null]);
    expect(rows.map((r) => tlsCertificateFields(r, defaults).subject)).toEqual(['', '']);
  });

  it('Akamai SIEM: 29 allowed requests on 443 with a TLS version but no certificate fields surface nothing', () => {
    const rows = akamaiRows();
    expect(rows).toHaveLength(29);
    expect(rows.every((r) => r['DestinationPort'] === '443' && r['DeviceAction'] === 'alert')).toBe(true);
    expect(rows.filter((r) => String(r['AdditionalExtensions']).includes('AkamaiSiemTLSVersion=tls1.2'))).toHaveLength(27);
    expect(rows.map((r) => t1608003.evaluate(r, defaults)).filter(Boolean)).toHaveLength(0);
  });
});

describe('over the Zeek APT29 emulation logs', () => {
  it('NASHUA: every one of the 376 sessions to the C2 at 192.168.0.4:8443 is a self-signed hit for CN=rempel.group.net', () => {
    const ssl = zeekRecords('NASHUA', 'ssl');
    const rows = zeekRows('NASHUA');
    expect(rows).toHaveLength(ssl.length);
    expect(ssl.length).toBe(376);
    const hits = rows.map((r) => hitFromRow(t1608003, r, DEFAULT_TUNING));
    expect(hits.every((h) => h !== null)).toBe(true);
    const distinctKeys = new Set(hits.map((h) => h?.key));
    expect(distinctKeys.size).toBe(376);
    for (const hit of hits) {
      if (!hit) continue;
      expect(hit.signals.map((s) => s.id)).toEqual(['self_signed']);
      expect(hit.entities).toMatchObject({ destinationIp: '192.168.0.4', destinationPort: 8443, domains: ['rempel.group.net'] });
      expect(hit.certificate).toMatchObject({
        subjectCommonName: 'rempel.group.net',
        issuerCommonName: 'rempel.group.net',
        serialNumber: '7EFDE1CFECCCDB44',
        notBefore: '2016-08-06T05:45:31.000Z',
        notAfter: '2024-08-04T05:45:31.000Z',
        selfSigned: true,
      });
      const scored = score(hit, undefined, DEFAULT_TUNING);
      expect(scored).toMatchObject({ score: 3, level: 'Medium' });
      expect(scored.suppressedBy).toBeUndefined();
    }
    const sha1s = new Set(hits.map((h) => h?.certificate?.sha1));
    expect([...sha1s]).toEqual([...new Set(ssl.map((s) => s['resp_certificate_sha1']))]);
    expect(hits[0]?.time).toBe(new Date((ssl[0]?.['ts'] as number) * 1000).toISOString());
  });

  it('SCRANTON: both sessions to 192.168.0.5:443 present the self-signed CN=conn.sons.info certificate', () => {
    const hits = zeekRows('SCRANTON').map((r) => t1608003.evaluate(r, defaults));
    expect(hits).toHaveLength(2);
    for (const hit of hits) {
      expect(hit?.signals.map((s) => s.id)).toEqual(['self_signed']);
      expect(hit?.entities).toMatchObject({ destinationIp: '192.168.0.5', destinationPort: 443, domains: ['conn.sons.info'] });
      expect(hit?.entities.destinationHost).toBeUndefined(); // no SNI in these sessions
      expect(hit?.certificate).toMatchObject({ serialNumber: '06743FC495E54B7B', subjectCommonName: 'conn.sons.info' });
    }
  });
});

describe('sessions without a certificate (TLS resumption) to an endpoint that presented a suspicious one', () => {
  it('are not hits, but evaluateRelated marks them with the endpoint they belong to', () => {
    const [record] = zeekRecords('NASHUA', 'ssl');
    const resumed = { ...record, ts: (record?.['ts'] as number) + 60, uid: 'Cresumed1', resumed: true, cert_chain_fuids: [], subject: undefined, issuer: undefined, resp_certificate_sha1: undefined, validation_status: undefined };
    const [row] = zeekSslToCommonSecurityLog([resumed], zeekRecords('NASHUA', 'x509'));
    const hit = t1608003.evaluate(zeekRows('NASHUA')[0] as Record<string, unknown>, defaults);
    expect(t1608003.evaluate(row as Record<string, unknown>, defaults)).toBeNull();
    const related = t1608003.evaluateRelated?.(row as Record<string, unknown>, defaults);
    expect(related).toMatchObject({ signals: [], indicators: { SessionWithoutCertificate: true }, relatedTo: { DestinationIP: '192.168.0.4', DestinationPort: 8443 } });
    expect(related?.relatedTo).toEqual({ DestinationIP: hit?.entities.destinationIp, DestinationPort: hit?.entities.destinationPort });
    expect(hit?.indicators['SessionWithoutCertificate']).toBe(false);
    // A row with the device's verdict but no certificate names is judged itself, never a related row.
    expect(t1608003.evaluateRelated?.({ ...(row as Record<string, unknown>), AdditionalExtensions: 'PanOSChainStatus=Untrusted' }, defaults)).toBeNull();
    // A session that carries a certificate is never a related row.
    expect(t1608003.evaluateRelated?.(zeekRows('NASHUA')[0] as Record<string, unknown>, defaults)).toBeNull();
  });

  it('the query keeps them only next to a hit on the same endpoint, in the hunt and the rule form', () => {
    for (const kql of [t1608003.buildQuery(defaults), t1608003.buildQuery(defaults, { start: new Date('2026-11-20T10:00:00Z'), end: new Date('2026-11-20T10:15:00Z') })]) {
      expect(kql).toContain('| join kind=leftsemi (Hits | distinct DestinationIP, DestinationPort) on DestinationIP, DestinationPort');
      expect(kql).toContain('| extend SessionWithoutCertificate = true;');
      expect(kql).toMatch(/union Hits, Related\n\| project .*, SessionWithoutCertificate\n/);
    }
  });
});
