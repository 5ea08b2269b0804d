import { UpstreamUnavailableError } from '../errors.js';
import { type CtRecord, toCtRecord } from './crtsh-records.js';

/**
 * crt.sh answers parsed as they arrive, one record at a time, so memory is bounded by the record
 * cap and not by what the server sends: a JSON array of objects, or objects back to back (the
 * legacy answer). Only the record being read is buffered. Hand-written rather than a streaming
 * JSON library: it needs only top-level object boundaries (string and nesting state), each record
 * is then checked by JSON.parse and the zod schema, and it stays linear whatever the input.
 */

/** One record's JSON may not pass this (a certificate with thousands of names is ~100 KB). */
export const MAX_RECORD_CHARS = 1_048_576;

export class CrtshRecordStream {
  readonly records: CtRecord[] = [];
  /** Records read. */
  rawRows = 0;
  private mode: 'start' | 'array' | 'concatenated' | 'html' = 'start';
  private arrayClosed = false;
  private afterValue = false;
  /** Nesting depth inside the current record; 0 between records. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private current: string[] = [];
  private currentChars = 0;
  private head = '';

  constructor(private readonly maxRecords: number) {}

  /** True once maxRecords records are read: the caller stops reading (the answer is truncated). */
  get full(): boolean {
    return this.records.length >= this.maxRecords;
  }

  /** Feeds the next piece of text; throws UpstreamUnavailableError on malformed input. */
  push(chunk: string): void {
    if (this.mode === 'html') return this.noteHead(chunk);
    let from = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length && !this.full; i++) {
      const ch = chunk[i]!;
      if (this.depth === 0) {
        if (this.opensRecord(ch)) {
          this.depth = 1;
          from = i;
        } else if (this.isHtml()) {
          return this.noteHead(chunk.slice(i));
        }
        continue;
      }
      this.inside(ch);
      if (this.depth === 0) {
        this.append(chunk.slice(from, i + 1));
        this.emit();
        from = -1;
      }
    }
    if (this.depth > 0 && from >= 0) this.append(chunk.slice(from));
  }

  /** The input ended: throws when it ended inside a record or was an HTML page. */
  end(): void {
    if (this.mode === 'html') throw new UpstreamUnavailableError('crt.sh', `answered an HTML page instead of JSON: ${htmlTitle(this.head)}`);
    if (this.full) return;
    if (this.depth !== 0 || (this.mode === 'array' && !this.arrayClosed)) throw malformed('unexpected end of input');
  }

  /** Between records: whitespace, the array's '[' ',' ']', or the '{' that opens the next record (answers true). */
  private opensRecord(ch: string): boolean {
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\uFEFF') return false;
    if (this.mode === 'start') {
      if (ch === '[') this.mode = 'array';
      else if (ch === '{') this.mode = 'concatenated';
      else if (ch === '<') this.mode = 'html';
      else throw malformed(`unexpected '${ch}' at the start`);
      return ch === '{';
    }
    if (this.mode === 'concatenated' && ch === '{') return true;
    if (this.mode === 'array' && !this.arrayClosed) {
      if (ch === '{' && !this.afterValue) return true;
      if (ch === ',' && this.afterValue) {
        this.afterValue = false;
        return false;
      }
      if (ch === ']' && (this.afterValue || this.rawRows === 0)) {
        this.arrayClosed = true;
        return false;
      }
    }
    throw malformed(`unexpected '${ch}' between records`);
  }

  private isHtml(): boolean {
    return this.mode === 'html';
  }

  private inside(ch: string): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (ch === '\\') this.escaped = true;
      else if (ch === '"') this.inString = false;
      return;
    }
    if (ch === '"') this.inString = true;
    else if (ch === '{' || ch === '[') this.depth++;
    else if (ch === '}' || ch === ']') this.depth--;
  }

  private append(text: string): void {
    this.currentChars += text.length;
    if (this.currentChars > MAX_RECORD_CHARS) throw malformed(`a record longer than ${MAX_RECORD_CHARS} characters`);
    this.current.push(text);
  }

  private emit(): void {
    const text = this.current.join('');
    this.current = [];
    this.currentChars = 0;
    this.afterValue = true;
    this.rawRows++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw malformed((err as Error).message.slice(0, 120));
    }
    try {
      this.records.push(toCtRecord(value));
    } catch (err) {
      throw new UpstreamUnavailableError('crt.sh', `row ${this.rawRows - 1} has an unexpected shape: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  private noteHead(text: string): void {
    if (this.head.length < 4096) this.head += text.slice(0, 4096 - this.head.length);
  }
}

function malformed(detail: string): UpstreamUnavailableError {
  return new UpstreamUnavailableError('crt.sh', `answered malformed JSON (${detail})`);
}

function htmlTitle(text: string): string {
  const m = /<title>([^<]{0,120})<\/title>/i.exec(text);
  return m?.[1]?.trim() || 'untitled page';
}
