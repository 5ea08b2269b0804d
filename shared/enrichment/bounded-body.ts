import { type Readable, Transform, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { UpstreamUnavailableError } from '../errors.js';

/**
 * Reads an HTTP answer body as a stream with two caps: bytes on the wire (before decompression)
 * and bytes after decompression (a 0.4 MB gzip bomb inflates past a gigabyte), handing text to a
 * sink as it arrives. The sink says when it has enough (a record cap): reading stops there and the
 * connection is dropped. Nothing here holds more than one chunk.
 */

export interface BodyLimits {
  /** Bytes as received, before Content-Encoding is undone. */
  maxWireBytes: number;
  /** Bytes after decompression. */
  maxBytes: number;
}

/** Receives the body as text; push answers true when it needs no more. */
export interface TextSink {
  push(text: string): boolean;
  end(): void;
}

/** The answer passed a byte cap: not retried (the same answer would come again). */
export class AnswerTooLargeError extends UpstreamUnavailableError {
  readonly permanent = true;
}

function decompressor(encoding: string | undefined): Transform | undefined {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return undefined;
  if (e === 'gzip' || e === 'x-gzip') return createGunzip();
  if (e === 'deflate') return createInflate();
  if (e === 'br') return createBrotliDecompress();
  throw new UpstreamUnavailableError('crt.sh', `answered with an unsupported Content-Encoding`);
}

function byteCounter(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(new AnswerTooLargeError('crt.sh', `answer larger than ${limit} bytes ${what}; not read further`));
      else done(null, chunk);
    },
  });
}

/** Answers true when the sink stopped early (truncated), false when the body ended. */
export async function readBoundedBody(body: Readable, contentEncoding: string | undefined, limits: BodyLimits, sink: TextSink, signal?: AbortSignal): Promise<boolean> {
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [body, byteCounter(limits.maxWireBytes, 'on the wire')];
  const inflate = decompressor(contentEncoding);
  if (inflate) stages.push(inflate);
  const plain = byteCounter(limits.maxBytes, 'after decompression');
  stages.push(plain);
  // pipeline destroys every stage when one fails or when reading stops early.
  pipeline(stages as unknown as [Readable, Transform], () => {});
  const onAbort = () => body.destroy(new UpstreamUnavailableError('crt.sh', 'stopped at the deadline'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      if (sink.push(decoder.write(chunk))) return true;
    }
    sink.push(decoder.end());
    sink.end();
    return false;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    body.destroy();
  }
}

/** Keeps the first maxChars characters of a body (PEM downloads, certificate pages, error pages). */
export function textSink(maxChars: number): TextSink & { readonly text: string } {
  let text = '';
  return {
    push(piece) {
      text += piece.slice(0, maxChars - text.length);
      return text.length >= maxChars;
    },
    end() {},
    get text() {
      return text;
    },
  };
}
