import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server playing crt.sh on 127.0.0.1: replays the real answers in
^ * test/datasets/crtsh, serves PEM downloads (?d=) and SHA-1 pages (?sha1=), injects every
 * failure mode crt.sh shows in the wild, and counts requests.
 */
export const CRTSH_DATASETS = new URL('../datasets/crtsh/', import.meta.url);

export function dataset(name: string): string {
  return readFileSync(new URL(name, CRTSH_DATASETS), 'utf8');
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'html200' }
  | { kind: 'malformed' }
  | { kind: 'reset' };

export interface RecordedRequest {
  query: Record<string, string>;
  userAgent: string | undefined;
  at: number;
}

export interface CrtshStandIn {
  url: string;
  requests: RecordedRequest[];
  readonly requestCount: number;
  /** Highest number of requests being answered at the same time. */
  readonly peakConcurrent: number;
  /** Answer for q=%.<domain> (a body, or a function making one). */
  setHistory(domain: string, body: string | (() => string)): void;
  /** Answer q=%.<domain> with a hand-made response (hostile answers: redirects, bombs, endless streams). */
  setResponder(domain: string, respond: (res: ServerResponse) => void): void;
  /** Answer for q=%.<domain> for any domain not set explicitly (default: an empty array). */
  setDefaultHistory(make: (domain: string) => string): void;
  addCertificate(cert: { id: number; sha256: string; sha1: string; pem: string }): void;
  /** The next requests get these faults, in order, one each. */
  queueFaults(...faults: Fault[]): void;
  /** Every request gets this fault until cleared (crt.sh down). */
  setPersistentFault(fault: Fault | undefined): void;
  latencyMs: number;
  reset(): void;
  stop(): Promise<void>;
}

export async function startCrtshStandIn(options: { latencyMs?: number } = {}): Promise<CrtshStandIn> {
  const histories = new Map<string, string | (() => string)>();
  const responders = new Map<string, (res: ServerResponse) => void>();
  let defaultHistory: (domain: string) => string = () => '[]';
  const certs: Array<{ id: number; sha256: string; sha1: string; pem: string }> = [];
  const faults: Fault[] = [];
  let persistent: Fault | undefined;
  let active = 0;
  let generation = 0;
  const state = { requests: [] as RecordedRequest[], peak: 0, latencyMs: options.latencyMs ?? 0 };

  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    state.requests.push({ query, userAgent: req.headers['user-agent'], at: Date.now() });
    const gen = generation;
    active++;
    state.peak = Math.max(state.peak, active);
    try {
      const fault = faults.shift() ?? persistent;
      if (state.latencyMs > 0) await delay(state.latencyMs);
      if (fault) {
        switch (fault.kind) {
          case 'status':
            res.writeHead(fault.status, { 'content-type': 'text/html', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
            res.end(fault.body ?? `<html><body>${fault.status}</body></html>`);
            return;
          case 'slow':
            await delay(fault.ms);
            break;
          case 'html200':
            res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
            res.end('<!DOCTYPE html><html><head><title>crt.sh | ERROR!</title></head><body>Sorry, something went wrong: statement timeout</body></html>');
            return;
          case 'malformed':
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('[{"issuer_ca_id":16418,"issuer_name":"C=US, O=Let\'s Encrypt, CN=R3","name_value":"a.example.com","id":1,');
            return;
          case 'reset':
            req.socket.destroy();
            return;
        }
      }
      if (res.destroyed || req.socket.destroyed) return;
      answer(query, res);
    } finally {
      // Requests still running from before a reset() do not count against the new generation.
      if (gen === generation) active--;
    }
  }

  function answer(query: Record<string, string>, res: ServerResponse): void {
    if (query.q !== undefined) {
      const domain = query.q.replace(/^%\./, '');
      const responder = responders.get(domain);
      if (responder) return responder(res);
      const body = histories.get(domain);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(typeof body === 'function' ? body() : (body ?? defaultHistory(domain)));
      return;
    }
    if (query.d !== undefined) {
      const d = query.d.toLowerCase();
      const cert = certs.find((c) => c.sha256 === d || String(c.id) === d);
      if (!cert) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Certificate not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pkix-cert' });
      res.end(cert.pem);
      return;
    }
    if (query.sha1 !== undefined) {
      const cert = certs.find((c) => c.sha1 === query.sha1?.toLowerCase());
      res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
      res.end(
        cert
          ? `<!DOCTYPE html><html><head><title>crt.sh | ${cert.id}</title></head><body><table><tr><th>crt.sh ID</th><td><A href="?id=${cert.id}">${cert.id}</A></td></tr><tr><td><A href="?d=${cert.id}">Download Certificate: PEM</A></td></tr></table></body></html>`
          : '<!DOCTYPE html><html><head><title>crt.sh | Certificate not found</title></head><body>Certificate not found</body></html>',
      );
      return;
    }
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('unsupported query');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get requestCount() {
      return state.requests.length;
    },
    get peakConcurrent() {
      return state.peak;
    },
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(ms: number) {
      state.latencyMs = ms;
    },
    setHistory: (domain, body) => void histories.set(domain, body),
    setDefaultHistory: (make) => void (defaultHistory = make),
    setResponder: (domain, respond) => void responders.set(domain, respond),
    addCertificate: (cert) => void certs.push(cert),
    queueFaults: (...f) => void faults.push(...f),
    setPersistentFault: (f) => void (persistent = f),
    reset() {
      generation++;
      responders.clear();
      active = 0;
      state.requests = [];
      state.peak = 0;
      faults.length = 0;
      persistent = undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A crt.sh answer with exactly `rows` rows (the cap is 10,000). */
export function syntheticHistory(domain: string, rows: number, options: { notBefore?: Date; issuer?: string } = {}): string {
  const nb = (options.notBefore ?? new Date('2024-01-01T00:00:00Z')).toISOString().slice(0, 19);
  const na = new Date(Date.parse(`${nb}Z`) + 90 * 86_400_000).toISOString().slice(0, 19);
  const issuer = options.issuer ?? "C=US, O=Let's Encrypt, CN=R3";
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    out.push(
      JSON.stringify({
        issuer_ca_id: 16418,
        issuer_name: issuer,
        common_name: `h${i}.${domain}`,
        name_value: `h${i}.${domain}`,
        id: 1_000_000 + i,
        entry_timestamp: `${nb}.000`,
        not_before: nb,
        not_after: na,
        serial_number: (0x10000 + i).toString(16),
      }),
    );
  }
  return `[${out.join(',')}]`;
}

/** 302 to wherever: the client must not follow it (loopback, cloud metadata). */
export function redirectTo(location: string): (res: ServerResponse) => void {
  return (res) => {
    res.writeHead(302, { location, 'content-type': 'text/html' });
    res.end(`<a href="${location}">moved</a>`);
  };
}

/**
 * A JSON array of `rows` records written as the client reads (backpressure), never built in
 * memory: 1,000,000 records is ~300 MB on the wire. Stops when the client goes away.
 * `written` counts the records sent.
 */
export function streamedRecords(domain: string, rows: number): { respond: (res: ServerResponse) => void; readonly written: number } {
  const state = { written: 0 };
  const respond = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    let closed = false;
    res.on('close', () => (closed = true));
    const more = () => {
      while (!closed && state.written < rows) {
        const i = state.written++;
        const row = JSON.stringify({ issuer_ca_id: 16418, issuer_name: "C=US, O=Let's Encrypt, CN=R3", common_name: `h${i}.${domain}`, name_value: `h${i}.${domain}`, id: 1_000_000 + i, entry_timestamp: '2024-01-01T00:00:00.000', not_before: '2024-01-01T00:00:00', not_after: '2024-03-31T00:00:00', serial_number: (0x10000 + i).toString(16) });
        if (!res.write(`${i > 0 ? ',' : ''}${row}`)) return void res.once('drain', more);
      }
      if (!closed) res.end(']');
    };
    more();
  };
  return {
    respond,
    get written() {
      return state.written;
    },
  };
}

/** gzip of `[` + whitespace + `]`: ~0.4 MB on the wire for ~400 MB of JSON. Built once, by streaming, at test time. */
export async function gzipBomb(inflatedBytes = 400 * 1024 * 1024): Promise<Buffer> {
  const { createGzip, constants } = await import('node:zlib');
  const gzip = createGzip({ level: constants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  const block = Buffer.alloc(1024 * 1024, ' ');
  gzip.write('[');
  for (let sent = 0; sent < inflatedBytes; sent += block.length) {
    if (!gzip.write(block)) await new Promise<void>((r) => gzip.once('drain', r));
  }
  gzip.end(']');
  await done;
  return Buffer.concat(out);
}

export function gzipped(body: Buffer): (res: ServerResponse) => void {
  return (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) });
    res.end(body);
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
