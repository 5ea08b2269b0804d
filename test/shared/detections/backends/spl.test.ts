import { describe, expect, it } from 'vitest';
import { grammars } from '../../../../devtools/grammars/parsers.js';
import { translatedSignals } from '../../../../shared/detections/backends/plan.js';
import { detectionPlan } from '../../../../shared/detections/backends/plan.js';
import { splSearches } from '../../../../shared/detections/backends/spl.js';
import { DETECTIONS, getDetection } from '../../../../shared/detections/index.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';
import { TUNED, TUNINGS } from './tunings.js';

describe('SPL backend', () => {
  it.each(TUNINGS)('every search parses with the SPL grammar (%s tuning)', (_name, tuning) => {
    const searches = splSearches(tuning);
    expect(searches.map((s) => s.name)).toEqual(DETECTIONS.flatMap((d) => (d.meta.id === 'T1608.003' ? ['sourcetypes', 'cim-certificates'] : ['sysmon', 'cim-endpoint']).map((s) => `certsoar ${d.meta.id} ${s}`)));
    for (const s of searches) expect(grammars().spl.parse(s.search), s.name).toMatchObject({ ok: true });
  });

  it('reads the sourcetypes of the reference page through the macro and uses every signal weight and the threshold', () => {
    const [sourcetypes] = splSearches(DEFAULT_TUNING);
    expect(sourcetypes?.search).toContain('`certsoar_tls_sourcetypes`');
    expect(sourcetypes?.search).toContain('| eval CertRiskScore=signal_self_signed*3 + signal_hostname_mismatch*2 + signal_placeholder_cn*2');
    expect(sourcetypes?.search).toContain('| where CertRiskScore > 1');
    expect(sourcetypes?.search).toContain('case(CertRiskScore>=5, "High", CertRiskScore>=3, "Medium", CertRiskScore>=2, "Low", 1==1, "Informational")');
  });

  it('follows the tuning document: ports, vendor keys, weights, threshold, levels, allowlists', () => {
    const search = splSearches(TUNED).find((s) => s.name === 'certsoar T1608.003 sourcetypes')?.search ?? '';
    expect(search).toContain('| where DestinationPort IN (443, 9443)');
    expect(search).toContain('x_cert_subject');
    expect(search).toContain('x_sni');
    expect(search).toContain('signal_self_signed*4 + signal_hostname_mismatch*1');
    expect(search).toContain('| where CertRiskScore > 2');
    expect(search).toContain('CertRiskScore>=6, "High", CertRiskScore>=4, "Medium", CertRiskScore>=1, "Low"');
    expect(search).toContain('| where NOT in(lower(TLSIssuer), "corp issuing ca")');
    expect(search).toContain('lab\\\\.invalid');
    const registry = splSearches(TUNED).find((s) => s.name === 'certsoar T1588.004 sysmon')?.search ?? '';
    expect(registry).toContain('(root|ca|trustedpublisher)');
    expect(registry).toContain('"ccmexec.exe"');
    expect(registry).toContain('| where NOT in(CertThumbprint, "0123456789abcdef0123456789abcdef01234567")');
  });

  it('skips a blank destination host for the SNI, as Kusto coalesce does (SPL coalesce alone would keep the blank)', () => {
    const search = splSearches(DEFAULT_TUNING)[0]?.search ?? '';
    const line = search.split('\n').find((l) => l.startsWith('| eval DestinationHost=')) ?? '';
    expect(line).toMatch(/coalesce\(if\(isnull\(dest_host\) OR in\(lower\(replace\(dest_host, .*null\(\)/);
    expect(line.indexOf('dest_host')).toBeLessThan(line.indexOf('PanOSServerNameIndication'));
  });

  it('fails closed on a signal it has no translation for', () => {
    const plan = detectionPlan(getDetection('T1608.003'), DEFAULT_TUNING);
    const withNewSignal = { ...plan, weights: [...plan.weights, { id: 'expired_certificate', weight: 1 }] };
    expect(() => translatedSignals(withNewSignal, 'SPL', { self_signed: 'x', hostname_mismatch: 'y', placeholder_cn: 'z' })).toThrow(/SPL: no translation for signal "expired_certificate" of T1608\.003/);
  });
});
