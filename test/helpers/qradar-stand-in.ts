import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loopbackTls } from './loopback-tls.js';

/**
 * A loopback HTTPS server playing the QRadar REST endpoints certsoar calls, with the shapes of
 * IBM's QRadar REST API 12.0 reference: POST /api/ariel/searches (201; 422 code 2000 for invalid
 * AQL), GET /api/ariel/searches/{id} (status WAIT → EXECUTE → SORTING → COMPLETED over polls;
 * 206 while `Prefer: wait=N` runs out), GET …/results with `Range: items=a-b` ({"events":[…]}),
 * DELETE …, GET /api/siem/offenses/{id}, POST /api/siem/offenses/{id}/notes?note_text=….
 * Every request must carry `SEC: <token>` and a `Version` header.
 *
 * There is no AQL engine here and it does not pretend to be one: a search is answered only when
 * its text, with its trailing START … STOP window taken off, is exactly one the test registered
 * (`searches`); the records registered for it are filtered by the window's epoch bounds. Any
 * other text answers 422 (code 2000).
 */

export interface QradarRecord {
  event: Record<string, unknown>;
  /** starttime (epoch ms), when QRadar received the event. */
  receivedAt: Date;
}

export type QradarFault =
  | { kind: 'unavailable' }
  | { kind: 'never-completes' }
  | { kind: 'search-error'; message: string }
  | { kind: 'short-page' };

interface Search {
  id: string;
  records: QradarRecord[];
  polls: number;
  status: string;
  fault?: QradarFault;
}

export interface QradarStandIn {
  baseUrl: string;
  token: string;
  searches: Map<string, QradarRecord[]>;
  /** Polls a search takes to complete. */
  pollsToComplete: number;
  faults: QradarFault[];
  created: Array<{ aql: string; status: number }>;
  /** Status requests received. */
  polls: number;
  deleted: string[];
  offenses: Map<number, { offense: Record<string, unknown>; events: QradarRecord[] }>;
  notes: Array<{ offenseId: number; text: string }>;
  close(): Promise<void>;
}

/** The window of a hunt-form AQL: the starttime guard line and the trailing START … STOP. */
export const AQL_WINDOW = /\n\s*AND starttime >= \d+ AND starttime < \d+(?=\n)|\s+START\s+'[^']*'\s+STOP\s+'[^']*'\s*$/gi;

/** A query's text with its window taken off: what `searches` is keyed by. */
export const withoutWindow = (aql: string) => aql.replace(AQL_WINDOW, '');

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

function qradarError(res: ServerResponse, status: number, code: number, message: string) {
  send(res, status, { http_response: { code: status, message }, code, message, description: message, details: {} });
}

/** The epoch bounds of the window: `starttime >= a AND starttime < b` in the AQL. */
function epochBounds(aql: string): { from: number; to: number } {
  const from = /starttime\s*>=\s*(\d+)/i.exec(aql)?.[1];
  const to = /starttime\s*<\s*(\d+)/i.exec(aql)?.[1];
  return { from: from ? Number(from) : -Infinity, to: to ? Number(to) : Infinity };
}

export async function startQradarStandIn(options: { token?: string } = {}): Promise<QradarStandIn> {
  const tls = loopbackTls();
  let nextId = 1;
  const live = new Map<string, Search>();
  const state = {
    token: options.token ?? 'qradar-test-token',
    searches: new Map<string, QradarRecord[]>(),
    pollsToComplete: 2,
    faults: [] as QradarFault[],
    created: [] as QradarStandIn['created'],
    polls: 0,
    deleted: [] as string[],
    offenses: new Map<number, { offense: Record<string, unknown>; events: QradarRecord[] }>(),
    notes: [] as QradarStandIn['notes'],
  };

  const create = (aql: string, res: ServerResponse) => {
    const fault = state.faults.shift();
    if (fault?.kind === 'unavailable') return state.created.push({ aql, status: 503 }), qradarError(res, 503, 1010, 'The Ariel server might be temporarily unavailable or offline.');
    const offense = /INOFFENSE\((\d+)\)/i.exec(aql);
    const registered = offense ? state.offenses.get(Number(offense[1]))?.events : state.searches.get(withoutWindow(aql));
    if (!registered) return state.created.push({ aql, status: 422 }), qradarError(res, 422, 2000, 'stand-in: this AQL is not one the test exported (no AQL engine here)');
    const { from, to } = epochBounds(aql);
    const records = offense ? registered : registered.filter((r) => r.receivedAt.getTime() >= from && r.receivedAt.getTime() < to);
    const search: Search = { id: `s${nextId++}`, records, polls: 0, status: 'WAIT', ...(fault ? { fault } : {}) };
    live.set(search.id, search);
    state.created.push({ aql, status: 201 });
    send(res, 201, { search_id: search.id, status: search.status, record_count: 0, progress: 0 });
  };

  const poll = (search: Search, res: ServerResponse) => {
    search.polls++;
    state.polls++;
    if (search.fault?.kind === 'search-error') search.status = 'ERROR';
    else if (search.fault?.kind === 'never-completes') search.status = 'EXECUTE';
    else search.status = search.polls >= state.pollsToComplete ? 'COMPLETED' : search.polls === state.pollsToComplete - 1 ? 'SORTING' : 'EXECUTE';
    const done = search.status === 'COMPLETED';
    const body = {
      search_id: search.id,
      status: search.status,
      record_count: done ? search.records.length : 0,
      progress: done ? 100 : 50,
      error_messages: search.fault?.kind === 'search-error' ? [{ code: '1020', message: search.fault.message, severity: 'ERROR' }] : [],
    };
    send(res, done || search.status === 'ERROR' ? 200 : 206, body);
  };

  const results = (search: Search, range: string | undefined, res: ServerResponse) => {
    if (search.status !== 'COMPLETED') return qradarError(res, 404, 1003, 'Search results not found. The search is still in progress.');
    const m = /^items=(\d+)-(\d+)$/.exec(range ?? '');
    const from = m ? Number(m[1]) : 0;
    const to = m ? Number(m[2]) : search.records.length - 1;
    if (from > to) return qradarError(res, 422, 1005, 'A request parameter is not valid.');
    let page = search.records.slice(from, to + 1).map((r) => ({ ...r.event, starttime: r.receivedAt.getTime() }));
    if (search.fault?.kind === 'short-page') page = page.slice(0, Math.max(0, page.length - 1));
    send(res, 200, { events: page }, { 'Content-Range': `items ${from}-${from + page.length - 1}/${search.records.length}` });
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'https://stand-in');
    req.resume();
    if (req.headers.sec !== state.token) return qradarError(res, 401, 1002, 'No SEC header present in request or the token is not valid.');
    if (!req.headers.version) return qradarError(res, 422, 1005, 'Version header required by certsoar stand-in');
    const path = url.pathname;
    if (req.method === 'POST' && path === '/api/ariel/searches') return create(url.searchParams.get('query_expression') ?? '', res);
    const s = /^\/api\/ariel\/searches\/([^/]+)(\/results)?$/.exec(path);
    if (s) {
      const search = live.get(decodeURIComponent(s[1] ?? ''));
      if (!search) return qradarError(res, 404, 1002, 'The search does not exist.');
      if (req.method === 'DELETE') return state.deleted.push(search.id), live.delete(search.id), send(res, 202, { search_id: search.id, status: 'CANCELED' });
      return s[2] ? results(search, req.headers.range as string | undefined, res) : poll(search, res);
    }
    const o = /^\/api\/siem\/offenses\/(\d+)(\/notes)?$/.exec(path);
    if (o) {
      const id = Number(o[1]);
      const offense = state.offenses.get(id);
      if (!offense) return qradarError(res, 404, 1002, 'The offense does not exist.');
      if (o[2] && req.method === 'POST') {
        const text = url.searchParams.get('note_text') ?? '';
        state.notes.push({ offenseId: id, text });
        return send(res, 201, { id: state.notes.length, note_text: text, create_time: Date.now(), username: 'API_token: certsoar' });
      }
      if (o[2]) return send(res, 200, state.notes.filter((n) => n.offenseId === id).map((n, i) => ({ id: i + 1, note_text: n.text })));
      return send(res, 200, offense.offense);
    }
    qradarError(res, 404, 1002, `no endpoint ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `https://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
