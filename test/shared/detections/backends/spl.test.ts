import { describe, expect, it } from 'vitest';
import { grammars } from '../../../../devtools/grammars/parsers.js';
import { definitionOf, splSearches } from '../../../../shared/detections/backends/spl.js';
import { decodeUtf16leBase64, extend, lit } from '../../../../shared/detections/definition/build.js';
import type { DetectionDefinition } from '../../../../shared/detections/definition/types.js';
import { DETECTIONS, getDetection } from '../../../../shared/detections/index.js';
import type { Detection } from '../../../../shared/detections/types.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';
import { TUNED, TUNINGS } from './tunings.js';

const line = (search: string, prefix: string) => search.split('\n').find((l) => l.startsWith(prefix)) ?? '';
const searchNamed = (name: string, tuning = DEFAULT_TUNING) => splSearches(tuning).find((s) => s.name === name)?.search ?? '';

/** A detection whose definition is changed, to show the SPL follows the definition. */
function withDefinition(id: string, change: (def: DetectionDefinition) => DetectionDefinition): Detection {
  const d = getDetection(id);
  return { ...d, definition: change(definitionOf(d)) } as Detection;
}

describe('SPL backend', () => {
  it.each(TUNINGS)('compiles every detection, per Splunk source and branch, to searches the SPL grammar parses (%s tuning)', (_name, tuning) => {
    const searches = splSearches(tuning);
    const branches = definitionOf(getDetection('T1587.003')).branches.map((b) => b.name);
    expect(branches.length).toBeGreaterThanOrEqual(4);
    expect([...searches.map((s) => s.name)].sort()).toEqual([
      'certsoar T1608.003 sourcetypes',
      'certsoar T1608.003 cim-certificates',
      'certsoar T1588.004 sysmon',
      'certsoar T1588.004 cim-endpoint',
      ...branches.map((b) => `certsoar T1587.003 sysmon ${b}`),
      ...branches.map((b) => `certsoar T1587.003 cim-endpoint ${b}`),
    ].sort());
    expect(new Set(searches.map((s) => s.detectionId))).toEqual(new Set(DETECTIONS.map((d) => d.meta.id)));
    for (const s of searches) expect(grammars().spl.parse(s.search), s.name).toMatchObject({ ok: true });
  });

  it("runs the definition's signals with its weights, threshold and the tuning's levels", () => {
    const search = searchNamed('certsoar T1608.003 sourcetypes');
    expect(search.startsWith('`certsoar_index` `certsoar_tls_sourcetypes`')).toBe(true);
    expect(search).toContain('| eval signal_self_signed=if(IsSelfSigned==1, 1, 0)');
    expect(search).toContain('| eval CertRiskScore=signal_self_signed*3 + signal_hostname_mismatch*2 + signal_placeholder_cn*2');
    expect(search).toContain('| where CertRiskScore > 1');
    expect(search).toContain('case(CertRiskScore>=5, "High", CertRiskScore>=3, "Medium", CertRiskScore>=2, "Low", 1==1, "Informational")');
    expect(search.split('\n').at(-1)).toBe('| sort 0 - CertRiskScore, - _time');
  });

  it('follows the tuning document: ports, vendor keys, weights, threshold, levels, allowlists', () => {
    const search = searchNamed('certsoar T1608.003 sourcetypes', TUNED);
    expect(search).toContain('| where (DestinationPort IN (443, 9443))');
    // A vendor key is read from the Splunk field of that name and extracted by the definition's key list.
    expect(line(search, '| eval TimeGenerated=')).toContain('"x_cert_subject=" . replace(coalesce(x_cert_subject, ""),');
    expect(line(search, '| eval TLSSubject=')).toContain('x_cert_subject');
    expect(search).toContain('signal_self_signed*4 + signal_hostname_mismatch*1 + signal_placeholder_cn*2');
    expect(search).toContain('| where CertRiskScore > 2');
    expect(search).toContain('CertRiskScore>=6, "High", CertRiskScore>=4, "Medium", CertRiskScore>=1, "Low"');
    expect(search).toContain('| where NOT ((lower(TLSIssuer) IN ("corp issuing ca")))');
    const registry = searchNamed('certsoar T1588.004 sysmon', TUNED);
    expect(registry).toContain('(?:Root|CA|TrustedPublisher)');
    expect(registry).toContain('"ccmexec.exe"');
    expect(registry).toContain('"0123456789abcdef0123456789abcdef01234567"');
  });

  it('keeps Kusto coalesce: a blank destination host falls through to the SNI', () => {
    const host = line(searchNamed('certsoar T1608.003 sourcetypes'), '| eval DestinationHost=');
    // Each candidate is cleaned, then null when empty, so SPL's coalesce moves on to the next.
    expect(host).toMatch(/^\| eval DestinationHost=lower\(replace\(coalesce\(if\(len\(if\(\(lower\(replace\(DestinationHostName, /);
    expect(host.indexOf('DestinationHostName')).toBeLessThan(host.indexOf('PanOSServerNameIndication'));
    expect(host).toContain('null()');
  });

  it("returns every column the detection's evaluator reads, so an alert's result row can be evaluated again by certsoar", () => {
    for (const s of splSearches(DEFAULT_TUNING)) {
      const table = line(s.search, '| table ').slice('| table '.length).split(', ');
      const d = getDetection(s.detectionId);
      const branchColumns = definitionOf(d).branches.find((b) => s.name.endsWith(b.name) || definitionOf(d).branches.length === 1)?.columns ?? {};
      expect(table, s.name).toEqual(expect.arrayContaining(d.projectedColumns.filter((c) => c in branchColumns || definitionOf(d).branches.length === 1)));
      expect(table, s.name).toEqual(expect.arrayContaining(['_time', 'TimeGenerated', 'CertRiskScore', 'CertRiskLevel']));
    }
    expect(line(searchNamed('certsoar T1588.004 sysmon'), '| eval TimeGenerated=')).toMatch(/^\| eval TimeGenerated=strftime\(_time, "%Y-%m-%dT%H:%M:%S\.%3Q%z"\), /);
  });

  it('maps Sysmon onto the registry table the definition reads, hive spellings included', () => {
    const adapter = line(searchNamed('certsoar T1588.004 sysmon'), '| eval TimeGenerated=');
    expect(adapter).toContain('RegistryKey=if(EventType=="SetValue"');
    expect(adapter).toContain('"(?i)^HKU(\\\\\\\\)", "HKEY_USERS\\\\1"');
    expect(adapter).toContain('InitiatingProcessFileName=mvindex(split(coalesce(Image, ""), "\\\\"), -1)');
  });

  it('follows the definition: a new signal reaches the SPL without touching the backend', () => {
    const changed = withDefinition('T1608.003', (def) => ({ ...def, signals: [...def.signals, { id: 'always', when: lit(true), weight: 'weights.placeholder_cn', reason: 'x' }] }));
    const [search] = splSearches(DEFAULT_TUNING, [changed]);
    expect(search?.search).toContain('| eval signal_always=if(1==1, 1, 0)');
    expect(search?.search).toContain('+ signal_always*2');
  });

  it('reads a column no Splunk source maps as empty and says so, and reports what SPL cannot express', () => {
    const newColumn = withDefinition('T1608.003', (def) => ({ ...def, branches: def.branches.map((b) => ({ ...b, columns: { ...b.columns, DeviceExternalID: 'string' as const } })) }));
    const [mapped] = splSearches(DEFAULT_TUNING, [newColumn]);
    expect(line(mapped?.search ?? '', '| eval TimeGenerated=')).toContain(', DeviceExternalID=""');
    expect(mapped?.limitations).toContain('no Splunk field is mapped for DeviceExternalID (read as empty; map it in splunk-sources.ts)');
    const syslog = withDefinition('T1608.003', (def) => ({ ...def, branches: [...def.branches, { ...(def.branches[0] as never as Record<string, unknown>), name: 'SyslogTls', table: 'Syslog' } as never] }));
    expect(splSearches(DEFAULT_TUNING, [syslog])[0]?.limitations).toContain('branch SyslogTls reads Syslog, which no Splunk source stands for; it is not searched');
    const decoded = withDefinition('T1608.003', (def) => ({ ...def, steps: [...def.steps, extend('Decoded', decodeUtf16leBase64(lit('YQBiAA==')))] }));
    const [search] = splSearches(DEFAULT_TUNING, [decoded]);
    expect(search?.search).toContain('| eval Decoded=""');
    expect(search?.limitations.join('\n')).toMatch(/no base64 decoding/);
  });
});
