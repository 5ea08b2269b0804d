import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { sysmonProcessCreateToDeviceProcessEvents } from '../../../shared/detections/adapters/sysmon.js';
import { DETECTIONS } from '../../../shared/detections/index.js';
import type { Detection } from '../../../shared/detections/types.js';
import { akamaiRows, datasetUrl, paloAltoRows, zeekRows, zscalerFortinetRows } from './fixtures/datasets.js';
import { T1587_003_SCENARIOS } from './definitions/t1587-003.scenarios.js';
import { T1588_004_SCENARIOS } from './definitions/t1588-004.scenarios.js';
import { T1608_003_SCENARIOS } from './definitions/t1608-003.scenarios.js';
import { type Divergence, checkParity, summarise, tableForRow } from './parity.js';
import { generateRows } from './parity-corpus.js';

/**
 * Parity: for every detection, the KQL (executed by devtools/kusto, the same text Sentinel runs)
 * and the in-process evaluator (`detection.evaluate`) agree row by row, over every scenario row and
 * over 10,000 generated rows per detection. Generic over DETECTIONS: a new detection is checked by
 * giving its scenarios here and a generator for any new table in parity-corpus.ts.
 */

const SCENARIOS: Record<string, Array<{ row: Record<string, unknown> }>> = {
  'T1608.003': T1608_003_SCENARIOS,
  'T1588.004': T1588_004_SCENARIOS,
  'T1587.003': T1587_003_SCENARIOS,
};

const CORPUS_ROWS = 10_000;

/**
 * The divergences the executed KQL and the evaluator still have on the generated corpus (issue 10),
 * by kind; a kind that appears or disappears fails the ledger test, so the list is always the truth.
 * The last kind found after the one-definition rewrite: a SAN of separators only (", ,") in
 * T1608.003, or `-DnsName ""` in T1587.003, made extract_all return null (documented: no match
 * gives null) and the KQL passed that null to array_concat, whose behaviour on a non-array the
 * documentation does not define. The KQL now turns that null into dynamic([]).
 * Found and fixed by the rewrite: the blank DestinationHostName with an SNI; DeviceAction,
 * InitiatingProcessFileName and RegistryKey with surrounding whitespace trimmed by one side only.
 */
const KNOWN_DIVERGENCES: Record<string, string[]> = {
  'T1608.003': [],
  'T1588.004': [],
  'T1587.003': [],
};

const corpusResults = new Map<string, Divergence[]>();
function corpusDivergences(detection: Detection): Divergence[] {
  const id = detection.meta.id;
  let found = corpusResults.get(id);
  if (!found) {
    const items = generateRows(detection.meta.tables, CORPUS_ROWS, 0x5eed + id.length);
    expect(items).toHaveLength(CORPUS_ROWS);
    found = checkParity(detection, items);
    corpusResults.set(id, found);
  }
  return found;
}

function corpusTests(detection: Detection): void {
  const id = detection.meta.id;
  const known = KNOWN_DIVERGENCES[id] ?? [];
  const title = `${id}: the executed KQL and the evaluator agree on ${CORPUS_ROWS} generated rows`;
  const agree = () => expect(summarise(corpusDivergences(detection))).toEqual([]);
  if (known.length) it.fails(`${title} (issue 10: divergences remain, see KNOWN_DIVERGENCES)`, agree, 120_000);
  else it(title, agree, 120_000);
  it(`${id}: the corpus finds exactly the divergence kinds recorded for issue 10`, () => {
    const kinds = [...new Set(corpusDivergences(detection).map((d) => d.what))].sort();
    expect(kinds).toEqual([...known].sort());
  }, 120_000);
}

describe('detection parity: executed KQL versus the in-process evaluator', () => {
  it('has scenarios for every detection', () => {
    for (const d of DETECTIONS) expect(SCENARIOS[d.meta.id]?.length, d.meta.id).toBeGreaterThan(0);
  });

  for (const detection of DETECTIONS) {
    it(`${detection.meta.id}: agrees on every scenario row`, () => {
      const scenarios = SCENARIOS[detection.meta.id] ?? [];
      const items = scenarios.map((s) => ({ table: tableForRow(detection, s.row), row: s.row }));
      expect(summarise(checkParity(detection, items))).toEqual([]);
    });
    corpusTests(detection);
  }

  it('T1608.003: agrees on every row of the vendored public datasets (Palo Alto, Zscaler/Fortinet, Akamai, Zeek)', () => {
    const detection = DETECTIONS.find((d) => d.meta.id === 'T1608.003') as Detection;
    // The Zeek adapter puts the connection uid (text) in ExternalID, an int column of CommonSecurityLog;
    // no detection reads it, so it is left out here (reported to the lead as an adapter bug).
    const zeek = [...zeekRows('NASHUA'), ...zeekRows('SCRANTON')].map(({ ExternalID: _uid, ...rest }) => rest);
    const rows = [...paloAltoRows(), ...zscalerFortinetRows(), ...akamaiRows(), ...zeek];
    expect(rows.length).toBeGreaterThan(50);
    expect(summarise(checkParity(detection, rows.map((row) => ({ table: 'CommonSecurityLog', row }))))).toEqual([]);
  }, 120_000);

  it('T1587.003: agrees on the vendored Sysmon process-creation events (through the Sysmon adapter)', () => {
    const detection = DETECTIONS.find((d) => d.meta.id === 'T1587.003') as Detection;
    // The Sysmon adapter puts the ProcessGuid (text) in ReportId, a long column of DeviceProcessEvents;
    // it only feeds the hit key, so it is left out here (reported to the lead as an adapter bug).
    const rows = ['d2125259-ddea-4c1c-9c22-977eb5b29cf0', '3ffd6f51-e6c1-47b7-94b4-c1e61d4117c5'].map((id) => {
      const { ReportId: _guid, ...row } = sysmonProcessCreateToDeviceProcessEvents(JSON.parse(readFileSync(datasetUrl(`sysmon/${id}.json`), 'utf8')));
      return row;
    });
    expect(rows.filter((row) => detection.evaluate(row, detection.paramsSchema.parse({}))).length).toBeGreaterThan(0);
    expect(summarise(checkParity(detection, rows.map((row) => ({ table: 'DeviceProcessEvents', row }))))).toEqual([]);
  });

  // The divergence issue 10 names: a blank DestinationHostName with the host in the SNI.
  it('issue 10: a blank DestinationHostName whose SNI names the host is a hit in the KQL as in the evaluator', () => {
    const detection = DETECTIONS.find((d) => d.meta.id === 'T1608.003') as Detection;
    const row = {
      DeviceVendor: 'Palo Alto Networks',
      DeviceProduct: 'PAN-OS',
      DeviceAction: 'allow',
      DestinationPort: 443,
      DestinationHostName: '   ',
      AdditionalExtensions: 'PanOSCommonName=localhost;PanOSIssuerCommonName=Contoso Issuing CA;PanOSServerNameIndication=login.contoso.com',
    };
    expect(detection.evaluate({ ...row, TimeGenerated: '2026-11-20T00:00:00.000Z' }, detection.paramsSchema.parse({}))).not.toBeNull();
    expect(summarise(checkParity(detection, [{ table: 'CommonSecurityLog', row }]))).toEqual([]);
  });

  it('finds a divergence when the evaluator and the KQL disagree (the harness can fail)', () => {
    const real = DETECTIONS.find((d) => d.meta.id === 'T1588.004') as Detection;
    const skewed: Detection = { ...real, evaluate: () => null };
    const row = {
      ActionType: 'RegistryValueSet',
      RegistryKey: 'HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43',
      RegistryValueName: 'Blob',
      InitiatingProcessFileName: 'powershell.exe',
    };
    expect(checkParity(real, [{ table: 'DeviceRegistryEvents', row }])).toEqual([]);
    expect(checkParity(skewed, [{ table: 'DeviceRegistryEvents', row }]).map((d) => d.what)).toEqual(['hit in the KQL only']);
  });
});
