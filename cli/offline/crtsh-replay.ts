import { X509Certificate, createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getDomain } from 'tldts';
import { shiftTimestamps } from './rebase.js';

/**
 * A tiny crt.sh on 127.0.0.1 that answers from recorded files, so the real crt.sh client runs
 * offline unchanged (CRTSH_BASE_URL points here):
 * - `?q=%.domain&output=json` (or identity=) → samples/crtsh/<registrable domain>.json, `[]` when
 *   nothing was recorded (crt.sh's answer for an unknown name);
 * - `?sha1=` / `?sha256=` (certificate page) and `?d=<sha256|id>` (PEM download) → a recorded
 *   samples/crtsh/certs/<crt.sh id>.pem, else crt.sh's "Certificate not found" page.
 * Record dates move by the same offset as the sample rows (see rebase.ts).
 */

export interface CrtshReplay {
  baseUrl: string;
  /** Every request path served, in order (tests count them). */
  requests: string[];
  close(): Promise<void>;
}

export async function startCrtshReplay(options: { dir: string; shiftMs: number }): Promise<CrtshReplay> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${url.pathname}${url.search}`);
    answer(url, options)
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(url: URL, options: { dir: string; shiftMs: number }): Promise<{ status: number; type: string; body: string }> {
  const download = url.searchParams.get('d');
  const fingerprint = url.searchParams.get('sha1') ?? url.searchParams.get('sha256');
  if (download !== null || fingerprint !== null) {
    const recorded = await findRecordedCertificate(join(options.dir, 'certs'), (download ?? fingerprint ?? '').toLowerCase());
    if (!recorded) return { status: 200, type: 'text/html; charset=UTF-8', body: NOT_FOUND_PAGE };
    // The certificate page links its PEM download as ?d=<id>, as crt.sh's does.
    if (download === null) return { status: 200, type: 'text/html; charset=UTF-8', body: `<html><body><a href="?d=${recorded.id}">Download Certificate: PEM</a></body></html>` };
    return { status: 200, type: 'application/pkix-cert', body: recorded.pem };
  }
  const query = url.searchParams.get('q') ?? url.searchParams.get('identity') ?? url.searchParams.get('Identity');
  if (query === null) return { status: 400, type: 'text/html; charset=UTF-8', body: '<html><body>no query</body></html>' };
  const name = query.replace(/^%+\.?/, '').toLowerCase();
  const domain = getDomain(name) ?? name;
  const recorded = /^[a-z0-9.-]+$/.test(domain) ? await readOptional(join(options.dir, `${domain}.json`)) : undefined;
  const records: unknown = recorded === undefined ? [] : shiftTimestamps(JSON.parse(recorded) as unknown, options.shiftMs);
  return { status: 200, type: 'application/json', body: JSON.stringify(records) };
}

const NOT_FOUND_PAGE = '<html><head><title>crt.sh | Certificate not found</title></head><body>Certificate not found</body></html>';

/** certs/<crt.sh id>.pem, found by id, SHA-1 or SHA-256 of the certificate. */
async function findRecordedCertificate(dir: string, wanted: string): Promise<{ id: string; pem: string } | undefined> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.pem'));
  } catch {
    return undefined;
  }
  for (const file of files) {
    const id = file.slice(0, -'.pem'.length);
    const pem = await readFile(join(dir, file), 'utf8');
    const raw = new X509Certificate(pem).raw;
    const sha1 = createHash('sha1').update(raw).digest('hex');
    const sha256 = createHash('sha256').update(raw).digest('hex');
    if (wanted === id || wanted === sha1 || wanted === sha256) return { id, pem };
  }
  return undefined;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
