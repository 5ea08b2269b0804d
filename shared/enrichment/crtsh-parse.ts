import type { CtRecord } from './crtsh-records.js';
import { CrtshRecordStream } from './crtsh-stream.js';

/**
 * Turns a crt.sh answer body into records. Accepts a JSON array, a single object, and objects
 * placed back to back with no separators (the legacy answer). An HTML page (crt.sh's error pages
 * come with status 200), malformed JSON or rows of the wrong shape are upstream failures.
 */
export function parseCrtshBody(body: string, maxRecords = Number.POSITIVE_INFINITY): { records: CtRecord[]; rawRows: number } {
  const stream = new CrtshRecordStream(maxRecords);
  stream.push(body);
  stream.end();
  return { records: stream.records, rawRows: stream.rawRows };
}
