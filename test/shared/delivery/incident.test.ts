import { describe, expect, it } from 'vitest';
import { buildIncidentPayload } from '../../../shared/delivery/incident.js';
import { INCIDENT_SCHEMA_VERSION, incidentJsonSchema, incidentPayloadSchema } from '../../../shared/delivery/incident-schema.js';
import { findingLinks } from '../../../shared/delivery/links.js';
import { oversizedFinding, sampleFinding, seaTurtleFinding } from './fixtures.js';

describe('incident payload', () => {
  it('carries detection, entities, score, reasons, enrichment summary and links', () => {
    const finding = sampleFinding();
    finding.hit.incident = { armId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/incidents/i1', incidentNumber: 7 };
    const p = buildIncidentPayload(finding);
    expect(p.schemaVersion).toBe(INCIDENT_SCHEMA_VERSION);
    expect(p).toMatchObject({
      findingId: finding.id,
      severity: 'High',
      score: 6,
      detection: { id: 'T1608.003', known: true, technique: { id: 'T1608.003', url: 'https://attack.mitre.org/techniques/T1608/003/' } },
      entities: { host: 'WKS-0042', destinationHost: 'update-check.example-cdn.net' },
      enrichment: { ctDomain: 'example-cdn.net', ctFirstSeen: '2026-11-01T08:00:00.000Z', recentIssuance: { last7Days: 1, last30Days: 3 }, certificateAgeDays: 2.4, missing: [] },
      links: { crtsh: `https://crt.sh/?q=${'a'.repeat(64)}`, attack: 'https://attack.mitre.org/techniques/T1608/003/' },
      suppression: null,
      sentinelIncident: { incidentNumber: 7 },
    });
    expect(p.links.sentinelIncident).toMatch(/^https:\/\/portal\.azure\.com\/#asset\/Microsoft_Azure_Security_Insights\/Incident\/subscriptions\//);
    expect(p.reasons.map((r) => r.points)).toEqual([3, 2, 1]);
    expect(p.title).toContain('update-check.example-cdn.net');
  });

  it('handles an observable finding with a detection id that is not shipped', () => {
    const finding = sampleFinding();
    finding.hit.detectionId = 'observable:domain';
    finding.hit.certificate = undefined;
    finding.hit.entities = { domains: ['new-domain.example'] };
    finding.enrichment.ct = undefined;
    finding.enrichment.missing = [{ source: 'crtsh', reason: 'crt.sh unavailable: HTTP 503', retryable: true }];
    const p = buildIncidentPayload(finding, findingLinks(finding));
    expect(p.detection).toEqual({ id: 'observable:domain', title: 'Observable enrichment (observable:domain)', known: false, tactics: [] });
    expect(p.links).toEqual({ crtsh: 'https://crt.sh/?q=new-domain.example' });
    expect(p.enrichment.missing).toHaveLength(1);
  });

  it('cuts long text and long reason lists and redacts secrets', () => {
    const finding = oversizedFinding();
    finding.hit.entities.url = 'https://x.blob.core.windows.net/c/f?sv=2024&sig=ABCSECRET';
    const p = buildIncidentPayload(finding);
    expect(p.reasons).toHaveLength(50);
    expect(p.reasonsOmitted).toBe(150);
    expect(p.entities.commandLine!.length).toBeLessThanOrEqual(2000);
    expect(JSON.stringify(p)).not.toContain('ABCSECRET');
  });

  it('exports the same shape as JSON Schema (draft-04) for the Logic App trigger', () => {
    const schema = incidentJsonSchema() as { $schema: string; properties: Record<string, unknown>; required: string[] };
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(Object.keys(schema.properties)).toEqual(Object.keys(incidentPayloadSchema.shape));
    expect(schema.required).toEqual(expect.arrayContaining(['schemaVersion', 'findingId', 'severity', 'detection', 'entities', 'reasons', 'enrichment', 'links']));
  });

  it('rejects a payload of the wrong version', () => {
    const p = { ...buildIncidentPayload(sampleFinding()), schemaVersion: '0.9' };
    expect(incidentPayloadSchema.safeParse(p).success).toBe(false);
  });
});

describe('incident payload: certificate in CT', () => {
  it('is true when the certificate is in the history of a domain it names, whatever the destination\'s history says', () => {
    const p = buildIncidentPayload(seaTurtleFinding());
    expect(p.enrichment.ctDomain).toBe('c0ntoso.com');
    expect(p.enrichment.certificateInCt).toBe(true);
  });

  it('is left out when a lookup that could have found it failed', () => {
    const finding = seaTurtleFinding();
    finding.enrichment.ctOtherDomains = [];
    finding.enrichment.missing = [{ source: 'crtsh', reason: 'CT history of contoso.com: crt.sh unavailable: HTTP 503', retryable: true }];
    // What the enricher stores when a lookup that could have found it failed: no decision.
    delete finding.enrichment.certificateInCt;
    expect(buildIncidentPayload(finding).enrichment.certificateInCt).toBeUndefined();
    expect(buildIncidentPayload(sampleFinding()).enrichment.certificateInCt).toBe(false);
  });
});
