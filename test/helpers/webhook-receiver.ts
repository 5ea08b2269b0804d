import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { loopbackTls } from './loopback-tls.js';

/**
 * A webhook receiver on loopback (HTTP, or HTTPS with loopbackTls()) that records every request
 * and plays the failures real receivers show: 429 with Retry-After, 5xx, and hanging past the
 * client's timeout. It dedupes by Idempotency-Key the way a careful receiver would: `accepted`
 * holds what the channel would show, `requests` everything that arrived.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  idempotencyKey?: string;
  body: unknown;
  /** What the receiver answered (undefined when it hung). */
  answered?: number;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Never answer. processed: the receiver acted on the request before hanging (the answer is lost). */
  | { kind: 'hang'; processed?: boolean };

export interface WebhookReceiver {
  /** Base URL, e.g. https://127.0.0.1:PORT */
  origin: string;
  /** A webhook URL carrying a signature, the way Logic App callbacks do. */
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** Deduped by Idempotency-Key: what a channel fed by this receiver would show. */
  accepted: ReceivedRequest[];
  /** Requests that repeated an already accepted Idempotency-Key (dropped). */
  duplicatesDropped: number;
  /** Faults consumed one per request, in order, before normal answers resume. */
  inject(...faults: Fault[]): void;
  /** Accepted bodies for one path. */
  acceptedAt(path: string): ReceivedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

export const TEST_SIGNATURE = 'TOPSECRETsig0123456789abcdef';

export async function startWebhookReceiver(options: { tls?: boolean } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const accepted: ReceivedRequest[] = [];
  const seenKeys = new Set<string>();
  const faults: Fault[] = [];
  const sockets = new Set<Socket>();
  let duplicatesDropped = 0;

  const accept = (r: ReceivedRequest) => {
    if (r.idempotencyKey && seenKeys.has(r.idempotencyKey)) {
      duplicatesDropped++;
      receiver.duplicatesDropped = duplicatesDropped;
      return;
    }
    if (r.idempotencyKey) seenKeys.add(r.idempotencyKey);
    accepted.push(r);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep the text */
      }
      const key = req.headers['idempotency-key'];
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        headers: req.headers,
        ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
        body,
      };
      requests.push(record);
      const fault = faults.shift();
      if (fault?.kind === 'hang') {
        if (fault.processed) accept(record);
        return; // the socket stays open until the client gives up or stop() destroys it
      }
      if (fault?.kind === 'status') {
        record.answered = fault.status;
        res.writeHead(fault.status, { 'Content-Type': 'application/json', ...(fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {}) });
        res.end(JSON.stringify({ error: `injected ${fault.status}` }));
        return;
      }
      accept(record);
      record.answered = 202;
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{"status":"accepted"}');
    });
  };

  let server: Server;
  if (options.tls) {
    const { cert, key } = loopbackTls();
    server = createHttpsServer({ cert, key }, handler);
  } else {
    server = createHttpServer(handler);
  }
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const receiver: WebhookReceiver = {
    origin,
    url: (path = '/hook') => `${origin}${path}?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEST_SIGNATURE}`,
    requests,
    accepted,
    duplicatesDropped,
    inject: (...f) => faults.push(...f),
    acceptedAt: (path) => accepted.filter((r) => r.path === path),
    reset: () => {
      requests.length = 0;
      accepted.length = 0;
      seenKeys.clear();
      faults.length = 0;
      duplicatesDropped = 0;
      receiver.duplicatesDropped = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return receiver;
}
