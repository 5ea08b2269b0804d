import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliverer } from '../../../shared/delivery/deliverer.js';
import { siemWriteBackFromConfig } from '../../../shared/delivery/siem-write-back.js';
import { loadConfig } from '../../../shared/config.js';
import { memoryLedger } from '../../../shared/state/delivery-ledger.js';
import { type QradarStandIn, startQradarStandIn } from '../../helpers/qradar-stand-in.js';
import { type SplunkStandIn, startSplunkStandIn } from '../../helpers/splunk-stand-in.js';
import { sampleFinding } from './fixtures.js';

/**
 * Issue 16 write-back through the delivery ledger: a finding goes to Splunk as one HEC event
 * (never twice, never when suppressed), a finding from a Splunk ES notable updates that notable,
 * and a finding from a QRadar offense becomes a note on it. Loopback stand-ins of the documented
 * endpoints; the real deliverer and ledger.
 */
let splunk: SplunkStandIn;
let qradar: QradarStandIn;
beforeAll(async () => {
  [splunk, qradar] = await Promise.all([startSplunkStandIn(), startQradarStandIn()]);
  qradar.offenses.set(88, { offense: { id: 88, description: 'certsoar T1608.003', start_time: 0 }, events: [] });
});
afterAll(async () => Promise.all([splunk.close(), qradar.close()]));

function deliverer(ledger = memoryLedger()) {
  const config = loadConfig({
    SPLUNK_URL: splunk.baseUrl,
    SPLUNK_TOKEN: splunk.token,
    SPLUNK_HEC_URL: splunk.baseUrl,
    SPLUNK_HEC_TOKEN: splunk.hecToken,
    SPLUNK_ES_ENABLED: 'true',
    QRADAR_URL: qradar.baseUrl,
    QRADAR_TOKEN: qradar.token,
  });
  const siem = siemWriteBackFromConfig(config);
  expect(siem).toBeDefined();
  return createDeliverer({ siem: siem!, ledger, digestThreshold: 10, maxAttempts: 2 });
}

describe('Splunk and QRadar write-back', () => {
  it('sends a hunted finding to HEC once, however often it is delivered', async () => {
    const d = deliverer();
    const finding = sampleFinding({ id: 'f-hec-1' });
    const before = splunk.hecEvents.length;
    await d.deliver([finding]);
    await d.deliver([finding]);
    const events = splunk.hecEvents.slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]?.body).toMatchObject({ index: 'certsoar', sourcetype: 'certsoar:finding', event: { finding_id: 'f-hec-1', level: finding.level, score: finding.score } });
  });

  it('comments on the notable of a Splunk ES alert with the urgency of the level, and withholds the HEC event of a suppressed finding', async () => {
    const d = deliverer();
    const base = sampleFinding({ id: 'f-notable-1' });
    const finding = { ...base, suppressedBy: { rule: 'lab-hosts', reason: 'lab network' }, hit: { ...base.hit, incident: { siem: { kind: 'splunk' as const, sid: 's1', searchName: 'certsoar T1608.003 sourcetypes', notableEventId: 'N-1@@notable@@1' } } } };
    const before = { hec: splunk.hecEvents.length, notables: splunk.notableUpdates.length };
    const report = await d.deliver([finding]);
    expect(splunk.hecEvents.length).toBe(before.hec);
    const updates = splunk.notableUpdates.slice(before.notables);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.get('ruleUIDs')).toBe('N-1@@notable@@1');
    expect(updates[0]?.get('comment')).toMatch(/Suppressed by lab-hosts/);
    expect(report.results.map((r) => `${r.destination}:${r.status}`)).toContain('splunk-notable:posted');
  });

  it('adds a note to the QRadar offense a finding came from, once, with control characters from the certificate removed', async () => {
    const d = deliverer();
    const base = sampleFinding({ id: 'f-note-1', reasons: [{ id: 'placeholder_cn', points: 2, reason: 'common name "\u001b[2Jtest" is a placeholder' }] });
    const finding = { ...base, hit: { ...base.hit, incident: { siem: { kind: 'qradar' as const, offenseId: 88 } } } };
    await d.deliver([finding]);
    await d.deliver([finding]);
    const notes = qradar.notes.filter((n) => n.offenseId === 88);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.text).toMatch(/certsoar: /);
    expect(notes[0]?.text).not.toContain('\u001b');
  });
});
