import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { detectionForSearchName, fromSplunkAlert } from '../../../shared/siem/splunk-alert.js';

const payload = {
  sid: 'scheduler__admin__certsoar__RMD5f00_at_1763632800_42',
  search_name: 'certsoar T1608.003 Suspicious TLS certificate',
  app: 'certsoar',
  owner: 'admin',
  results_link: 'https://splunk.example:8000/app/certsoar/search?sid=scheduler__admin',
  result: { DestinationHostName: 'c2.evil.example', DestinationPort: '443', event_id: 'ABC-123@@notable@@1' },
};

describe('fromSplunkAlert', () => {
  it('turns the webhook payload into the detection named by the saved search, its first row and the alert reference', () => {
    expect(fromSplunkAlert(payload)).toEqual({
      detectionId: 'T1608.003',
      row: payload.result,
      origin: { kind: 'splunk', sid: payload.sid, searchName: payload.search_name, resultsLink: payload.results_link, notableEventId: 'ABC-123@@notable@@1' },
    });
  });

  it('names the field when the payload lacks what Splunk sends', () => {
    const err = (() => {
      try {
        fromSplunkAlert({ ...payload, result: 'not an object' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).problems.map((p) => p.path)).toEqual(['result']);
  });

  it('refuses a saved search that names no certsoar detection, or two', () => {
    expect(() => detectionForSearchName('Some other alert')).toThrow(/search_name.*names no certsoar detection/);
    expect(() => detectionForSearchName('T1608.003 and T1588.004')).toThrow(/more than one/);
    expect(detectionForSearchName('certsoar t1587.003 tooling')).toBe('T1587.003');
  });
});
