import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../cli/report/html.js';
import { buildFindingCard } from '../../../shared/delivery/card.js';
import { reportFindings } from './fixtures.js';

function render() {
  const findings = reportFindings();
  const cards = new Map(findings.map((f) => [f.id, buildFindingCard(f) as unknown]));
  return { findings, html: renderReport({ findings, cards, title: 'Report <t>', source: 'tests', generatedAt: new Date('2026-01-15T12:00:00Z') }) };
}

describe('renderReport', () => {
  it('lists live findings by score and suppressed ones apart, saying what suppressed them', () => {
    const { html } = render();
    const dom = new JSDOM(html);
    const doc = dom.window.document;
    expect([...doc.querySelectorAll('#findings .finding')].map((n) => n.getAttribute('data-finding-id'))).toEqual(['high-1', 'low-1']);
    expect([...doc.querySelectorAll('#suppressed .finding')].map((n) => n.getAttribute('data-finding-id'))).toEqual(['sup-1']);
    expect(doc.querySelector('#suppressed .suppressed-by')?.textContent).toBe('Suppressed by approved-cert-store-writer: approved deployment tooling');
    expect(doc.querySelector('.counts')?.textContent).toBe('2 finding(s) standing for 2 row(s): 1 High · 0 Medium · 1 Low · 0 Informational · 1 suppressed');
    expect(doc.querySelector('#finding-low-1 .missing')?.textContent).toContain('crt.sh unavailable');
    expect(doc.querySelector('#finding-sup-1 .entity')?.textContent).toBe('ws-02 → thumbprint 4a7c1e9f3b5d…');
  });

  it('escapes finding text and the title', () => {
    const { html } = render();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('CN &lt;script&gt;alert(1)&lt;/script&gt; does not cover &quot;a&amp;b&quot;');
    expect(html).toContain('<title>Report &lt;t&gt;</title>');
  });

  it('inlines the adaptivecards library and renders each card in the page', () => {
    const { html, findings } = render();
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('AdaptiveCards');
    const dom = new JSDOM(html, { runScripts: 'dangerously' });
    const doc = dom.window.document;
    expect(doc.body.getAttribute('data-cards-rendered')).toBe(String(findings.length));
    for (const f of findings) {
      const node = doc.querySelector(`[data-card-for="${f.id}"]`);
      expect(node?.querySelector('.ac-adaptiveCard'), f.id).not.toBeNull();
    }
    dom.window.close();
  });

  it('card JSON cannot close the script element it travels in', () => {
    const findings = reportFindings();
    const cards = new Map<string, unknown>([[findings[0]!.id, { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: '</script><b>x</b>' }] }]]);
    const html = renderReport({ findings, cards, title: 't', source: 's', generatedAt: new Date(0) });
    const data = /<script id="card-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(data).not.toContain('</script');
    expect(JSON.parse(data)['low-1'].body[0].text).toBe('</script><b>x</b>');
    // a finding without a card says so instead of failing the page
    const dom = new JSDOM(html, { runScripts: 'dangerously' });
    expect(dom.window.document.querySelector('[data-card-for="high-1"]')?.textContent).toBe('No card for this finding.');
    dom.window.close();
  });

  it('says when there is nothing to show', () => {
    const html = renderReport({ findings: [], cards: new Map(), title: 't', source: 's', generatedAt: new Date(0) });
    expect(html).toContain('No findings.');
    expect(html).toContain('Nothing suppressed.');
  });
});
