import { JSDOM } from 'jsdom';

/**
 * Parses a card with the real adaptivecards library (it needs a DOM, so a JSDOM window is
 * installed first) and returns every parse and validation event: an empty list means the card
 * is valid Adaptive Card JSON for the library's schema version.
 */
export async function cardProblems(card: unknown): Promise<string[]> {
  if (!(globalThis as { document?: unknown }).document) {
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    const w = dom.window as unknown as Record<string, unknown>;
    const domClasses = Object.getOwnPropertyNames(w).filter((name) => /^(HTML\w*Element|Element|Node|Text|Event|KeyboardEvent|MouseEvent|CustomEvent|getComputedStyle)$/.test(name));
    for (const name of domClasses) if (!(name in globalThis)) Object.assign(globalThis, { [name]: w[name] });
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
  }
  const AC = await import('adaptivecards');
  // Teams renders markdown itself; the library only needs to know the text was handled.
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = text;
    result.didProcess = true;
  };
  const context = new AC.SerializationContext();
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    problems.push(`parse: ${e.message}`);
  }
  const results = parsed.validateProperties();
  for (const e of results.validationEvents) problems.push(`validate: ${e.message}`);
  // Rendering proves the library understands every element; an unknown element renders nothing.
  const rendered = parsed.render();
  if (!rendered) problems.push('render: nothing rendered');
  return problems;
}
