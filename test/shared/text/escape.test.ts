import { describe, expect, it } from 'vitest';
import { findingsTable } from '../../../cli/report/table.js';
import { buildFindingCard } from '../../../shared/delivery/card.js';
import { buildIncidentPayload } from '../../../shared/delivery/incident.js';
import { commentText } from '../../../shared/delivery/sentinel.js';
import { escapeCardMarkdown, escapeHtml, escapeMarkdownAndHtml, terminalSafe } from '../../../shared/text/escape.js';
import { sampleFinding } from '../delivery/fixtures.js';

/** The reproducers of issue 13: a CN carrying markup and a host carrying ANSI escapes, through every sink. */
const IMG = '<img src=x onerror=alert(1)>';
const LINK = '[click here](https://evil.example)';
const ANSI = '\u001b[2J\u001b]0;pwned\u0007';

function hostile() {
  const f = sampleFinding({ id: 'fn-escape' });
  f.hit.certificate!.subject = `CN=${IMG}`;
  f.hit.entities.destinationHost = `${IMG}${ANSI}.example`;
  f.reasons = [
    { id: 'self_signed', points: 3, reason: `certificate ${IMG} is self-signed ${LINK} **bold** # heading` },
    { id: 'hostname_mismatch', points: 2, reason: `names do not cover C:\\Windows\\${ANSI}` },
  ];
  return f;
}

describe('escaping per sink', () => {
  it('escapeHtml, escapeMarkdownAndHtml, escapeCardMarkdown, terminalSafe', () => {
    expect(escapeHtml(`${IMG}&'"`)).toBe('&lt;img src=x onerror=alert(1)&gt;&amp;&#39;&quot;');
    expect(escapeMarkdownAndHtml(`${LINK} <b> C:\\x`)).toBe('\\[click here\\]\\(https://evil.example\\) &lt;b&gt; C:\\\\x');
    expect(escapeCardMarkdown(LINK)).toBe('\\[click here\\](https://evil.example)');
    expect(terminalSafe(`a${ANSI}b\u202ec\u009b`)).toBe('a\\x1b[2J\\x1b]0;pwned\\x07b\\u202ec\\x9b');
  });

  it('Sentinel comment: no raw tag', () => {
    const text = commentText(hostile());
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('incident payload: the title holds no tag, the reasons (the incident description) neither tag nor markdown link', () => {
    const payload = buildIncidentPayload(hostile());
    expect(payload.title).not.toContain('<img');
    const description = payload.reasons.map((r) => r.reason).join('\n');
    expect(description).not.toContain('<img');
    expect(description).not.toMatch(/(?<!\\)\[click here(?<!\\)\]\(/);
    expect(description).toContain('\\*\\*bold\\*\\*');
    expect(description).toContain('C:\\\\Windows');
  });

  it('Adaptive Card: the CN cannot become a link', () => {
    const card = JSON.stringify(buildFindingCard(hostile()));
    const texts = JSON.parse(card, (_k, v: unknown) => v) as unknown;
    expect(JSON.stringify(texts)).not.toMatch(/[^\\]\[click here[^\\]\]\(/);
  });

  it('CLI table: no control character reaches the terminal', () => {
    const table = findingsTable([hostile()]);
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(table).toContain('\\x1b');
  });
});
