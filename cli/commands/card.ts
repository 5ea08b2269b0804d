import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildFindingCard, messageBytes, TEAMS_MAX_MESSAGE_BYTES, teamsMessage } from '../../shared/delivery/card.js';
import { ValidationError } from '../../shared/errors.js';
import type { Finding } from '../../shared/model.js';
import { parseStoredFinding } from '../../shared/threats/finding-fields.js';
import { escapeHtml } from '../../shared/text/escape.js';
import { type Command, UsageError } from '../io.js';

export const USAGE = `usage: certsoar card FILE [--out DIR]

Renders each finding in FILE (one Finding JSON, a JSON array, or NDJSON) as the Teams Adaptive
Card certsoar would post. Writes DIR/<finding id>.card.json (the card), DIR/<finding id>.message.json
(the Teams webhook envelope) and DIR/<finding id>.html (a preview rendered by the adaptivecards
library, works offline). DIR defaults to the current directory.`;

export const run: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message, USAGE);
  }
  if (parsed.values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file) throw new UsageError('FILE is required', USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, USAGE);
  if (parsed.values.out === '') throw new UsageError('--out needs a directory', USAGE);

  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, USAGE);
  }
  const findings = parseFindings(text);
  const outDir = resolve(io.cwd, parsed.values.out ?? '.');
  await mkdir(outDir, { recursive: true });
  for (const finding of findings) {
    const card = buildFindingCard(finding);
    const message = teamsMessage(card);
    const bytes = messageBytes(message);
    const base = join(outDir, safeName(finding.id));
    await writeFile(`${base}.card.json`, `${JSON.stringify(card, null, 2)}\n`);
    await writeFile(`${base}.message.json`, `${JSON.stringify(message, null, 2)}\n`);
    await writeFile(`${base}.html`, previewHtml(finding, card));
    io.stdout(`${base}.card.json  ${finding.level} score ${finding.score}  ${bytes} bytes (limit ${TEAMS_MAX_MESSAGE_BYTES})\n`);
  }
  return 0;
};

/** One finding, a JSON array of findings, or NDJSON (one finding per line). */
export function parseFindings(text: string): Finding[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ValidationError('no findings', [{ path: 'FILE', message: 'the file is empty' }]);
  try {
    const whole: unknown = JSON.parse(trimmed);
    const list = Array.isArray(whole) ? whole : [whole];
    return list.map((v, i) => parseStoredFinding(v, Array.isArray(whole) ? `[${i}]` : ''));
  } catch (err) {
    if (err instanceof ValidationError) throw err;
  }
  return trimmed
    .split(/\r?\n/)
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new ValidationError('invalid NDJSON', [{ path: `line ${n}`, message: 'not JSON' }]);
      }
      return parseStoredFinding(value, `line ${n}`);
    });
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'finding';
}

const require = createRequire(import.meta.url);

/** A self-contained page: the library inlined, the card as inert JSON data, rendered on load. */
export function previewHtml(finding: Finding, card: unknown): string {
  const library = readFileSync(require.resolve('adaptivecards/dist/adaptivecards.min.js'), 'utf8');
  const data = JSON.stringify(card).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>certsoar card ${escapeHtml(finding.id)}</title>
<style>body{font-family:'Segoe UI',system-ui,sans-serif;background:#f5f5f5;margin:2em}#card{max-width:640px;background:#fff;border-radius:6px;box-shadow:0 1px 4px #0003;padding:4px}</style>
</head>
<body>
<h1>${escapeHtml(finding.level)} · score ${finding.score}</h1>
<div id="card"></div>
<noscript>This preview needs JavaScript; the card JSON is next to this file.</noscript>
<script type="application/json" id="card-json">${data}</script>
<script>${library.replace(/<\/script/gi, '<\\/script')}</script>
<script>
  // Plain text, HTML-escaped: the preview shows what the card says, never markup from a finding.
  AdaptiveCards.AdaptiveCard.onProcessMarkdown = function (text, result) {
    result.outputHtml = text.replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
    result.didProcess = true;
  };
  var card = new AdaptiveCards.AdaptiveCard();
  card.parse(JSON.parse(document.getElementById('card-json').textContent));
  document.getElementById('card').appendChild(card.render());
</script>
</body>
</html>
`;
}
