/**
 * The nesting depth of JSON text, measured on the raw text before JSON.parse builds anything:
 * one linear pass tracking strings, and the path of the first place deeper than the limit, so
 * the 400 can name the field (e.g. `row.DeviceAction.a[0]`).
 */

interface Frame {
  kind: 'object' | 'array';
  key: string;
  index: number;
  expectKey: boolean;
}

/** The path where the text first nests deeper than maxDepth; undefined when it never does. */
export function tooDeepAt(text: string, maxDepth: number): string | undefined {
  const frames: Frame[] = [];
  let inString = false;
  let escaped = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 0x5c) escaped = true;
      else if (ch === 0x22) {
        inString = false;
        const top = frames[frames.length - 1];
        if (top?.kind === 'object' && top.expectKey) {
          top.key = text.slice(stringStart, Math.min(i, stringStart + 40));
          top.expectKey = false;
        }
      }
      continue;
    }
    if (ch === 0x22) {
      inString = true;
      stringStart = i + 1;
    } else if (ch === 0x7b || ch === 0x5b) {
      frames.push({ kind: ch === 0x7b ? 'object' : 'array', key: '', index: 0, expectKey: ch === 0x7b });
      if (frames.length > maxDepth) return pathOf(frames);
    } else if (ch === 0x7d || ch === 0x5d) {
      frames.pop();
    } else if (ch === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.kind === 'array') top.index++;
      else if (top) top.expectKey = true;
    }
  }
  return undefined;
}

function pathOf(frames: Frame[]): string {
  let path = '';
  // The innermost frame is the value that is too deep: its parents name where it sits.
  for (const f of frames.slice(0, -1)) path += f.kind === 'array' ? `[${f.index}]` : `${path === '' ? '' : '.'}${f.key}`;
  return path;
}
