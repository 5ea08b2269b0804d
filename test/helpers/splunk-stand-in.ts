import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackTls } from './loopback-tls.js';

/**
 * A loopback HTTPS server playing the Splunk REST endpoints certsoar calls, with their documented
 * shapes (Splunk REST API Reference: search/jobs/export, services/collector/event,
 * services/notable_update). There is no SPL engine here and this server does not pretend to be
 * one: it answers a search only when its text is exactly one it was given (`searches`), with the
 * records given for it, filtered by the request's index-time window and event-time guard. Any
 * other text answers 400 with a FATAL message, so a query that drifts from the export fails.
 *
 * Export stream (output_mode=json): one JSON object per line, `{"preview":false,"offset":n,
 * "result":{…}}`, the last with `"lastrow":true`; errors as `{"messages":[{"type":"FATAL","text":…}]}`.
 */

export interface SplunkRecord {
  /** Fields as the search returns them (Splunk sends every value as text or a list of text). */
  result: Record<string, unknown>;
  /** _indextime. */
  indexedAt: Date;
  /** _time. */
  eventAt: Date;
}

export type SplunkFault =
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'unauthorized' }
  | { kind: 'job-error'; text: string }
  | { kind: 'truncate'; afterRows: number }
  | { kind: 'hang' };

export interface SplunkExportRequest {
  form: URLSearchParams;
  status: number;
  rows: number;
  fault?: SplunkFault['kind'];
}

export interface SplunkStandIn {
  baseUrl: string;
  token: string;
  /** Exact search text (as sent, with its leading `search`) → the records it selects. */
  searches: Map<string, SplunkRecord[]>;
  faults: SplunkFault[];
  exports: SplunkExportRequest[];
  /** HEC events received (services/collector/event), with their channel/idempotency headers. */
  hecEvents: Array<{ body: Record<string, unknown>; headers: IncomingMessage['headers'] }>;
  hecToken: string;
  notableUpdates: URLSearchParams[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

function messages(res: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ messages: [{ type, text }] }));
}

export async function startSplunkStandIn(options: { token?: string; hecToken?: string } = {}): Promise<SplunkStandIn> {
  const tls = loopbackTls();
  const state = {
    token: options.token ?? 'splunk-test-token',
    hecToken: options.hecToken ?? 'hec-test-token',
    searches: new Map<string, SplunkRecord[]>(),
    faults: [] as SplunkFault[],
    exports: [] as SplunkExportRequest[],
    hecEvents: [] as SplunkStandIn['hecEvents'],
    notableUpdates: [] as URLSearchParams[],
  };
  const hanging = new Set<ServerResponse>();

  const onExport = (form: URLSearchParams, res: ServerResponse) => {
    const fault = state.faults.shift();
    const log = (status: number, rows = 0) => state.exports.push({ form, status, rows, ...(fault ? { fault: fault.kind } : {}) });
    if (fault?.kind === 'throttle') return log(503), messages(res, 503, 'ERROR', 'Search auto-canceled: too many concurrent searches', { 'Retry-After': String(fault.retryAfterSeconds) });
    if (fault?.kind === 'unauthorized') return log(401), messages(res, 401, 'WARN', 'call not properly authenticated');
    if (fault?.kind === 'hang') return log(200), hanging.add(res), res.writeHead(200, { 'Content-Type': 'application/json' });
    const records = state.searches.get(form.get('search') ?? '');
    if (!records) return log(400), messages(res, 400, 'FATAL', 'stand-in: this search text is not one the test exported (no SPL engine here)');
    if (fault?.kind === 'job-error') return log(200), messages(res, 200, 'ERROR', fault.text);
    const indexFrom = Number(form.get('index_earliest')) * 1000;
    const indexTo = Number(form.get('index_latest')) * 1000;
    const eventFrom = Number(form.get('earliest_time')) * 1000;
    const selected = records.filter((r) => r.indexedAt.getTime() >= indexFrom && r.indexedAt.getTime() < indexTo && r.eventAt.getTime() >= eventFrom);
    log(200, selected.length);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const cutAt = fault?.kind === 'truncate' ? fault.afterRows : Infinity;
    selected.forEach((r, i) => {
      if (i >= cutAt) return;
      const line = { preview: false, offset: i, ...(i === selected.length - 1 ? { lastrow: true } : {}), result: r.result };
      res.write(`${JSON.stringify(line)}\n`);
    });
    if (cutAt < selected.length) res.write('{"preview":false,"offset":'); // the connection drops mid-line
    res.end();
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void (async () => {
      const text = await body(req);
      const path = new URL(req.url ?? '/', 'https://stand-in').pathname;
      if (path === '/services/collector/event') {
        if (req.headers.authorization !== `Splunk ${state.hecToken}`) return messages(res, 401, 'ERROR', 'Invalid token'), undefined;
        for (const piece of text.split(/(?<=\})\s*(?=\{)/)) state.hecEvents.push({ body: JSON.parse(piece) as Record<string, unknown>, headers: req.headers });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ text: 'Success', code: 0 })), undefined;
      }
      if (req.headers.authorization !== `Bearer ${state.token}`) return messages(res, 401, 'WARN', 'call not properly authenticated'), undefined;
      const form = new URLSearchParams(text);
      if (req.method === 'POST' && path === '/services/search/jobs/export') return onExport(form, res), undefined;
      if (req.method === 'POST' && path === '/services/notable_update') {
        state.notableUpdates.push(form);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ success: true, message: '1 event updated successfully', details: {} })), undefined;
      }
      messages(res, 404, 'ERROR', `Not Found: ${path}`);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `https://127.0.0.1:${port}`,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
