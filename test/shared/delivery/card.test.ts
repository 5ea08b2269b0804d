import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  buildFindingCard,
  LEVEL_COLOR,
  messageBytes,
  TEAMS_MAX_MESSAGE_BYTES,
  teamsMessage,
} from '../../../shared/delivery/card.js';
import { findingLinks } from '../../../shared/delivery/links.js';
import type { Level } from '../../../shared/model.js';
import { oversizedFinding, sampleFinding, seaTurtleFinding } from './fixtures.js';
import { cardProblems } from './validate-card.js';

const json = (v: unknown) => JSON.stringify(v);

describe('buildFindingCard', () => {
  it('is a valid Adaptive Card 1.5 in the Teams envelope', async () => {
    const finding = sampleFinding();
    const card = buildFindingCard(finding, findingLinks(finding));
    expect(card.version).toBe('1.5');
    expect(await cardProblems(card)).toEqual([]);
    const message = teamsMessage(card);
    expect(message).toEqual({ type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] });
  });

  it('colours the title by level', () => {
    const colours = (['High', 'Medium', 'Low', 'Informational'] as Level[]).map((level) => {
      const card = buildFindingCard(sampleFinding({ level }));
      return (card.body[0] as { color: string }).color;
    });
    expect(colours).toEqual(['attention', 'warning', 'accent', 'default']);
    expect(LEVEL_COLOR.High).toBe('attention');
  });

  it('shows the facts, the reasons with points, and the link actions', () => {
    const finding = sampleFinding({ hit: { ...sampleFinding().hit, incident: { armId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/incidents/abc' } } });
    const card = buildFindingCard(finding);
    const text = json(card);
    for (const expected of ['WKS-0042', '10.1.2.3 → 203.0.113.50', 'CN=localhost', 'Certificate age', '2 days (from log)', 'CT first seen', '2026-11-01 (example-cdn.net)', '"+3"', 'certificate is self-signed']) {
      expect(text).toContain(expected);
    }
    const actions = (card.actions ?? []) as Array<{ title: string; url: string }>;
    expect(actions.map((a) => a.title)).toEqual(['Open in Sentinel', 'crt.sh', 'ATT&CK']);
    expect(actions[1]!.url).toBe(`https://crt.sh/?q=${'a'.repeat(64)}`);
    expect(actions[0]!.url).toContain('/Microsoft.SecurityInsights/incidents/abc');
  });

  it('shows the suppression', async () => {
    const card = buildFindingCard(sampleFinding({ suppressedBy: { rule: 'internal_ca', reason: 'issued by the internal CA' } }));
    expect(json(card)).toContain('Suppressed by internal_ca');
    expect(json(card)).toContain('issued by the internal CA');
    expect(await cardProblems(card)).toEqual([]);
  });

  it('keeps an oversized finding under 28 KB with "+N more" counts', async () => {
    const card = buildFindingCard(oversizedFinding());
    const bytes = messageBytes(teamsMessage(card));
    expect(bytes).toBeLessThanOrEqual(TEAMS_MAX_MESSAGE_BYTES);
    const text = json(card);
    expect(text).toMatch(/\+\d+ more/);
    expect(text).toContain('+185 more');
    expect(await cardProblems(card)).toEqual([]);
  });

  it('never shows secrets and cannot be made to show a markdown link', () => {
    const finding = sampleFinding();
    finding.hit.entities.commandLine = 'curl "https://prod-1.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers&sv=1.0&sig=SECRETSIG123" -H "Authorization: Bearer eyJSECRETTOKEN"';
    finding.hit.certificate!.subject = 'CN=[click here](https://evil.example)';
    const text = json(buildFindingCard(finding));
    expect(text).not.toContain('SECRETSIG123');
    expect(text).not.toContain('eyJSECRETTOKEN');
    expect(text).toContain('logic.azure.com/REDACTED');
    expect(text).not.toContain('[click here](');
    expect(text).toContain('\\\\[click here\\\\]');
  });

  it('the validator itself reports a broken card', async () => {
    const broken = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock' }, { type: 'NoSuchElement' }], actions: [{ type: 'Action.OpenUrl', title: 'x' }] };
    expect((await cardProblems(broken)).length).toBeGreaterThan(0);
  });

  it('handles an observable finding whose detection is not shipped', async () => {
    const finding = sampleFinding();
    finding.hit.detectionId = 'observable';
    finding.hit.certificate = undefined;
    finding.hit.entities = { domains: ['fresh-domain.example'] };
    const card = buildFindingCard(finding);
    expect(await cardProblems(card)).toEqual([]);
    const actions = (card.actions ?? []) as Array<{ title: string }>;
    expect(actions.map((a) => a.title)).toEqual(['crt.sh']);
  });
});

describe('buildFindingCard: CT facts over every domain looked up', () => {
  const facts = (card: ReturnType<typeof buildFindingCard>) =>
    Object.fromEntries(((card.body.find((b) => b.type === 'FactSet') as { facts: Array<{ title: string; value: string }> }).facts).map((f) => [f.title, f.value]));

  it('says the Sea Turtle certificate is in CT (contoso.com history), not "not in CT" from the lookalike\'s history', async () => {
    const card = buildFindingCard(seaTurtleFinding());
    const f = facts(card);
    expect(f['Certificate in CT']).toBe('yes (contoso.com history)');
    expect(f['CT first seen']).toBe('2026-11-17 (c0ntoso.com)');
    expect(f['CT first seen, other names']).toBe('contoso.com first seen 2016-03-01');
    expect(await cardProblems(card)).toEqual([]);
  });

  it('says no only when every lookup came back without it, and unknown when one failed', () => {
    expect(facts(buildFindingCard(sampleFinding()))['Certificate in CT']).toBe('no');
    const failed = seaTurtleFinding();
    failed.enrichment.ctOtherDomains = [];
    failed.enrichment.missing = [{ source: 'crtsh', reason: 'CT history of contoso.com: crt.sh unavailable: HTTP 503', retryable: true }];
    expect(facts(buildFindingCard(failed))['Certificate in CT']).toBe('unknown');
  });
});
