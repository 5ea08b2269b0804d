import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { addOffenseNote, MAX_NOTE_CHARS, readOffense } from '../../../shared/siem/qradar-offense.js';
import { createSiemHttp } from '../../../shared/siem/siem-http.js';
import { sendHecEvent, updateNotable } from '../../../shared/siem/splunk-write-back.js';
import { startQradarStandIn, type QradarStandIn } from '../../helpers/qradar-stand-in.js';
import { startSplunkStandIn, type SplunkStandIn } from '../../helpers/splunk-stand-in.js';

let splunk: SplunkStandIn;
let qradar: QradarStandIn;
beforeAll(async () => {
  [splunk, qradar] = await Promise.all([startSplunkStandIn(), startQradarStandIn()]);
  qradar.offenses.set(77, { offense: { id: 77, description: 'certsoar T1608.003 Suspicious TLS certificate\n', start_time: 1763632800000 }, events: [] });
});
afterAll(async () => Promise.all([splunk.close(), qradar.close()]));

const hec = (token: string) => createSiemHttp({ baseUrl: splunk.baseUrl, headers: { Authorization: `Splunk ${token}` }, timeoutMs: 5000 });
const api = () => createSiemHttp({ baseUrl: splunk.baseUrl, headers: { Authorization: `Bearer ${splunk.token}` }, timeoutMs: 5000 });
const qr = () => createSiemHttp({ baseUrl: qradar.baseUrl, headers: { SEC: qradar.token, Version: '20.0' }, timeoutMs: 5000 });

describe('Splunk write-back', () => {
  it('sends the finding as one HEC event with its sourcetype and index', async () => {
    await sendHecEvent(hec(splunk.hecToken), { time: 1763632800, index: 'certsoar', sourcetype: 'certsoar:finding', source: 'certsoar', event: { id: 'f1', level: 'High' } }, 5000);
    expect(splunk.hecEvents.at(-1)?.body).toEqual({ time: 1763632800, index: 'certsoar', sourcetype: 'certsoar:finding', source: 'certsoar', event: { id: 'f1', level: 'High' } });
  });

  it('names SPLUNK_HEC_TOKEN when HEC refuses the token', async () => {
    const err = await sendHecEvent(hec('wrong'), { time: 1, sourcetype: 's', source: 'certsoar', event: {} }, 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]?.path).toBe('SPLUNK_HEC_TOKEN');
  });

  it('updates the notable event with the comment and the urgency of the level', async () => {
    await updateNotable(api(), 'ABC-123@@notable@@1', 'certsoar: High 6', 'High', 5000);
    const form = splunk.notableUpdates.at(-1);
    expect(Object.fromEntries(form ?? [])).toEqual({ ruleUIDs: 'ABC-123@@notable@@1', comment: 'certsoar: High 6', urgency: 'high' });
  });
});

describe('QRadar offense', () => {
  it('reads the offense and adds a note, cut to the note limit', async () => {
    expect((await readOffense(qr(), 77, 5000)).description).toMatch(/T1608\.003/);
    await addOffenseNote(qr(), 77, 'x'.repeat(MAX_NOTE_CHARS + 50), 5000);
    expect(qradar.notes.at(-1)?.text).toHaveLength(MAX_NOTE_CHARS);
  });

  it('says which offense id QRadar does not know', async () => {
    await expect(readOffense(qr(), 78, 5000)).rejects.toThrow(/offense_id: QRadar has no offense 78/);
  });
});
