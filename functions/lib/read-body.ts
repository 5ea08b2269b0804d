import type { HttpRequest } from '@azure/functions';
import { PayloadTooLargeError } from '../../shared/errors.js';

/** Reads at most limit bytes: content-length is checked first, then the bytes actually received. */
export async function readBody(request: HttpRequest, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError(limit, declared);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(limit, total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
