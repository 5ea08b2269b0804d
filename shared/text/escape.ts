/**
 * Text from logs (certificate subjects, command lines, registry paths) is adversary-controlled.
 * Each sink gets it escaped for what that sink renders; one function per sink kind.
 * Every pattern here is a single character class: linear on any input.
 */

const HTML_SPECIAL: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML sinks (Sentinel incident comments render HTML). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_SPECIAL[c]!);
}

/**
 * For sinks that render markdown and HTML (the Sentinel incident description the incident
 * webhook's Logic App writes): HTML-escaped, then every markdown metacharacter backslash-escaped,
 * so a CN can make neither a tag, a link, an image, emphasis nor a heading.
 */
export function escapeMarkdownAndHtml(text: string): string {
  // Markdown first: the entities escapeHtml writes (&#39;) must not get backslashes.
  return escapeHtml(text.replace(/[\\`*_{}[\]()#+!|~]/g, '\\$&'));
}

/**
 * For Adaptive Card TextBlocks (Teams renders a markdown subset: emphasis, lists, links; no HTML;
 * learn.microsoft.com "Text formatting in cards"). The brackets that make a link are
 * backslash-escaped: a CN must not become a clickable phishing link. Emphasis is left alone (it is
 * cosmetic, and `_` and `*` fill hostnames, rule ids and command lines), and so are backslashes:
 * Windows paths and registry keys are most of what these cards show. Newlines are flattened by
 * the caller, so no line can start a list.
 */
export function escapeCardMarkdown(text: string): string {
  return text.replace(/[[\]]/g, '\\$&');
}

/**
 * For a terminal: C0 and C1 control characters (ESC starts ANSI sequences that clear the screen,
 * move the cursor or retitle the window), DEL and the bidirectional overrides shown as visible
 * escapes (\x1b, \u202e) instead of acting on the terminal.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
