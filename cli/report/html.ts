import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Finding } from '../../shared/model.js';
import { occurrencesText } from '../../shared/threats/describe.js';
import { entityLabel } from './summary.js';

/**
 * One self-contained HTML page: every finding as its Adaptive Card, rendered in the page by the
 * adaptivecards library (inlined, so the report works offline and from file://), highest score
 * first, suppressed findings in their own section saying what suppressed them. Each finding also
 * has a plain-HTML summary, so the facts are readable without JavaScript.
 */

export interface ReportInput {
  findings: Finding[];
  /** Adaptive Card content (not the Teams envelope) per finding id. */
  cards: Map<string, unknown>;
  title: string;
  /** One line on where the data came from, e.g. "offline samples, 4 tables, 31 rows". */
  source: string;
  generatedAt: Date;
}

const require = createRequire(import.meta.url);
let adaptiveCardsScript: string | undefined;

function adaptiveCardsLibrary(): string {
  adaptiveCardsScript ??= readFileSync(require.resolve('adaptivecards/dist/adaptivecards.min.js'), 'utf8');
  return adaptiveCardsScript;
}

export function renderReport(input: ReportInput): string {
  const byScore = (a: Finding, b: Finding) => b.score - a.score || a.id.localeCompare(b.id);
  const live = input.findings.filter((f) => !f.suppressedBy).sort(byScore);
  const suppressed = input.findings.filter((f) => f.suppressedBy).sort(byScore);
  const counts = (['High', 'Medium', 'Low', 'Informational'] as const)
    .map((level) => `${live.filter((f) => f.level === level).length} ${level}`)
    .join(' · ');
  const cardData: Record<string, unknown> = {};
  for (const f of input.findings) cardData[f.id] = input.cards.get(f.id) ?? null;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="page">
  <h1>${escapeHtml(input.title)}</h1>
  <p>${escapeHtml(input.source)} · generated ${escapeHtml(input.generatedAt.toISOString())}</p>
  <p class="counts">${live.length} finding(s) standing for ${live.reduce((n, f) => n + f.occurrences, 0)} row(s): ${escapeHtml(counts)} · ${suppressed.length} suppressed</p>
</header>
<main>
<section id="findings">
<h2>Findings</h2>
${live.length ? live.map(renderFinding).join('\n') : '<p class="empty">No findings.</p>'}
</section>
<section id="suppressed">
<h2>Suppressed</h2>
<p class="note">Scored like the others but not delivered: a tuning rule says they are expected.</p>
${suppressed.length ? suppressed.map(renderFinding).join('\n') : '<p class="empty">Nothing suppressed.</p>'}
</section>
</main>
<script>${adaptiveCardsLibrary().replace(/<\/script/gi, '<\\/script')}</script>
<script id="card-data" type="application/json">${jsonForScript(cardData)}</script>
<script>${RENDER_SCRIPT}</script>
</body>
</html>
`;
}

function renderFinding(f: Finding): string {
  const level = f.level.toLowerCase();
  const suppressed = f.suppressedBy
    ? `<p class="suppressed-by">Suppressed by <code>${escapeHtml(f.suppressedBy.rule)}</code>: ${escapeHtml(f.suppressedBy.reason)}</p>`
    : '';
  const reasons = f.reasons.map((r) => `<li><b>+${r.points}</b> ${escapeHtml(r.reason)} <code>${escapeHtml(r.id)}</code></li>`).join('');
  const missing = f.enrichment.missing.length
    ? `<p class="missing">Missing enrichment: ${f.enrichment.missing.map((m) => escapeHtml(`${m.source} (${m.reason})`)).join('; ')}</p>`
    : '';
  return `<article class="finding level-${level}${f.suppressedBy ? ' is-suppressed' : ''}" id="finding-${escapeHtml(f.id)}" data-finding-id="${escapeHtml(f.id)}" data-level="${f.level}" data-score="${f.score}">
  <div class="summary">
    <span class="badge">${escapeHtml(f.level)} · ${f.score}</span>
    <span class="detection">${escapeHtml(f.hit.detectionId)}</span>
    <span class="entity">${escapeHtml(entityLabel(f.hit))}</span>
  </div>
  ${suppressed}
  <div class="card" data-card-for="${escapeHtml(f.id)}"></div>
  <details><summary>Why ${f.score} points</summary><ul>${reasons}</ul>${missing}<p class="id">finding ${escapeHtml(f.id)} · threat ${escapeHtml(f.threatId)} · ${escapeHtml(occurrencesText(f))} · ${escapeHtml(f.firstSeen)} to ${escapeHtml(f.lastSeen)}</p></details>
</article>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe inside a <script> element: no "</script>", no "<!--". */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const RENDER_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('card-data').textContent);
  var nodes = document.querySelectorAll('[data-card-for]');
  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i];
    var json = data[node.getAttribute('data-card-for')];
    if (!json) { node.textContent = 'No card for this finding.'; continue; }
    try {
      var card = new AdaptiveCards.AdaptiveCard();
      card.parse(json);
      var rendered = card.render();
      if (rendered) node.appendChild(rendered);
    } catch (err) {
      node.textContent = 'Card could not be rendered: ' + err;
    }
  }
  document.body.setAttribute('data-cards-rendered', String(nodes.length));
  // The whole page's height once the cards are drawn, for a full-page screenshot (--png).
  document.body.setAttribute('data-page-height', String(Math.ceil(document.documentElement.scrollHeight)));
})();
`;

const STYLE = `
body { font-family: "Segoe UI", system-ui, -apple-system, sans-serif; margin: 0; background: #f3f2f1; color: #201f1e; }
header.page { background: #201f1e; color: #fff; padding: 16px 24px; }
header.page h1 { margin: 0 0 4px; font-size: 22px; }
header.page p { margin: 2px 0; color: #d2d0ce; font-size: 13px; }
header.page .counts { color: #fff; font-weight: 600; }
main { padding: 8px 24px 32px; }
section h2 { font-size: 17px; margin: 20px 0 4px; }
section .note, .empty { color: #605e5c; font-size: 13px; margin: 0 0 12px; }
section { display: block; }
#findings, #suppressed { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
#findings > h2, #suppressed > h2, #suppressed > .note, .empty { flex-basis: 100%; }
.finding { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.15); width: 480px; border-top: 5px solid #8a8886; overflow: hidden; }
.finding.level-high { border-top-color: #d13438; }
.finding.level-medium { border-top-color: #ca5010; }
.finding.level-low { border-top-color: #c19c00; }
.finding.is-suppressed { opacity: .85; border-top-style: dashed; }
.summary { display: flex; gap: 8px; align-items: center; padding: 8px 12px; font-size: 13px; border-bottom: 1px solid #edebe9; }
.badge { font-weight: 700; padding: 2px 8px; border-radius: 10px; background: #edebe9; white-space: nowrap; }
.level-high .badge { background: #fde7e9; color: #a4262c; }
.level-medium .badge { background: #fed9cc; color: #8e3a0d; }
.level-low .badge { background: #fff4ce; color: #6d5700; }
.detection { font-weight: 600; }
.entity { color: #605e5c; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.suppressed-by { margin: 0; padding: 8px 12px; background: #f3f2f1; font-size: 13px; }
.card { padding: 0; }
details { font-size: 12px; padding: 6px 12px 10px; color: #323130; border-top: 1px solid #edebe9; }
details ul { padding-left: 18px; margin: 6px 0; }
.missing { color: #a4262c; }
.id { color: #8a8886; }
code { font-size: 12px; }
`;
