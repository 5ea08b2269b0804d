import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commentIdFor, raisedSeverity, SECURITY_INSIGHTS_API_VERSION, sentinelWriteBack } from '../../../shared/delivery/sentinel.js';
import type { Finding } from '../../../shared/model.js';
import { type ArmStandIn, incidentArmId, startArmStandIn } from '../../helpers/arm-stand-in.js';
import { fakeCredential, sampleFinding, TOKEN } from './fixtures.js';


function fromIncident(armId: string, overrides: Partial<Finding> = {}): Finding {
  const f = sampleFinding(overrides);
  f.hit.incident = { armId, incidentNumber: 42 };
  return f;
}

describe('Sentinel write-back against the ARM stand-in', () => {
  let arm: ArmStandIn;
  beforeAll(async () => {
    arm = await startArmStandIn({ token: TOKEN });
  });
  afterAll(async () => arm.stop());

  const client = () => sentinelWriteBack({ armEndpoint: arm.endpoint, credential: fakeCredential, label: 'certsoar' });

  it('comments, raises severity and adds labels with the etag', async () => {
    const armId = incidentArmId('inc-1');
    arm.addIncident(armId, { severity: 'Low', title: 'TLS anomaly', labels: [{ labelName: 'existing', labelType: 'User' }] });
    const finding = fromIncident(armId);
    const etagBefore = arm.incidents.get(armId)!.etag;
    const result = await client().writeBack(finding);
    expect(result).toMatchObject({ severityBefore: 'Low', severityAfter: 'High', labelsAdded: ['certsoar', 'T1608.003'], updateAttempts: 1 });
    const incident = arm.incidents.get(armId)!;
    expect(incident.properties.severity).toBe('High');
    expect(incident.properties.labels.map((l) => l.labelName)).toEqual(['existing', 'certsoar', 'T1608.003']);
    const comment = arm.comments.get(armId)!.get(commentIdFor(finding.id))!;
    expect(comment.message).toContain('certsoar: High (score 6)');
    expect(comment.message).toContain('+3 certificate is self-signed');
    expect(comment.message).toContain('example-cdn.net first seen 2026-11-01');
    const put = arm.calls.find((c) => c.method === 'PUT' && c.path === armId)!;
    expect(put.apiVersion).toBe(SECURITY_INSIGHTS_API_VERSION);
    expect(put.ifMatch).toBe(etagBefore);
    expect((put.body as { etag: string }).etag).toBe(put.ifMatch);
  });

  it('a retry rewrites the same comment and changes nothing else', async () => {
    const armId = incidentArmId('inc-2');
    arm.addIncident(armId, { severity: 'Medium' });
    const finding = fromIncident(armId);
    await client().writeBack(finding);
    const etagAfterFirst = arm.incidents.get(armId)!.etag;
    const second = await client().writeBack(finding);
    expect(arm.comments.get(armId)!.size).toBe(1);
    expect(second.updateAttempts).toBe(0);
    expect(arm.incidents.get(armId)!.etag).toBe(etagAfterFirst);
  });

  it('never lowers severity', async () => {
    const armId = incidentArmId('inc-3');
    arm.addIncident(armId, { severity: 'High', labels: [{ labelName: 'certsoar' }, { labelName: 'T1608.003' }] });
    const result = await client().writeBack(fromIncident(armId, { level: 'Low', score: 2 }));
    expect(result.severityAfter).toBe('High');
    expect(arm.incidents.get(armId)!.properties.severity).toBe('High');
    expect(raisedSeverity('High', 'Low')).toBe('High');
    expect(raisedSeverity('Informational', 'Medium')).toBe('Medium');
  });

  it('re-reads and retries on 412 when the incident changed in between', async () => {
    const armId = incidentArmId('inc-4');
    arm.addIncident(armId, { severity: 'Low' });
    arm.concurrentChangeBeforeNextPuts(2);
    const before = arm.calls.length;
    const result = await client().writeBack(fromIncident(armId));
    expect(result.updateAttempts).toBe(3);
    const mine = arm.calls.slice(before).filter((c) => c.path === armId);
    expect(mine.map((c) => `${c.method} ${c.status}`)).toEqual(['GET 200', 'PUT 412', 'GET 200', 'PUT 412', 'GET 200', 'PUT 200']);
    expect(arm.incidents.get(armId)!.properties.severity).toBe('High');
  });

  it('does not raise severity for a suppressed finding (comment and labels only)', async () => {
    const armId = incidentArmId('inc-5');
    arm.addIncident(armId, { severity: 'Low' });
    await client().writeBack(fromIncident(armId, { suppressedBy: { rule: 'internal_ca', reason: 'internal CA' } }));
    expect(arm.incidents.get(armId)!.properties.severity).toBe('Low');
    expect(arm.comments.get(armId)!.size).toBe(1);
  });

  it('refuses an ARM id that is not a Sentinel incident', async () => {
    const f = fromIncident('/subscriptions/x/../../evil');
    await expect(client().writeBack(f)).rejects.toThrow(/hit.incident.armId/);
  });
});
