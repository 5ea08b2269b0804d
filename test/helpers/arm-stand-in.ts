import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { loopbackTls } from './loopback-tls.js';

/**
 * A local HTTPS stand-in for the Microsoft.SecurityInsights calls certsoar makes on ARM:
 * GET/PUT of an incident (etag checked on PUT: 412 when stale) and PUT of a comment.
 * Requires the bearer token it was given; records every call.
 */

export interface StandInIncident {
  etag: string;
  properties: { severity: string; status: string; title: string; labels: Array<{ labelName: string; labelType?: string }>; [k: string]: unknown };
}

export interface ArmCall {
  method: string;
  path: string;
  apiVersion: string | null;
  ifMatch?: string;
  body: unknown;
  status: number;
}

export interface ArmStandIn {
  endpoint: string;
  incidents: Map<string, StandInIncident>;
  /** Comments by incident ARM id, then comment id. */
  comments: Map<string, Map<string, { message: string }>>;
  calls: ArmCall[];
  addIncident(armId: string, properties: Partial<StandInIncident['properties']>): void;
  /** The next n incident PUTs find that someone else changed the incident since the GET. */
  concurrentChangeBeforeNextPuts(n: number): void;
  stop(): Promise<void>;
}

export function incidentArmId(incidentId: string, workspace = 'ws1'): string {
  return `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/${workspace}/providers/Microsoft.SecurityInsights/incidents/${incidentId}`;
}

export async function startArmStandIn(options: { token: string }): Promise<ArmStandIn> {
  const incidents = new Map<string, StandInIncident>();
  const comments = new Map<string, Map<string, { message: string }>>();
  const calls: ArmCall[] = [];
  const sockets = new Set<Socket>();
  let concurrentChanges = 0;
  let etagCounter = 0;
  const nextEtag = () => `"etag-${++etagCounter}"`;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body: unknown = raw ? JSON.parse(raw) : undefined;
      const call: ArmCall = {
        method: req.method ?? '',
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        ...(typeof req.headers['if-match'] === 'string' ? { ifMatch: req.headers['if-match'] } : {}),
        body,
        status: 0,
      };
      calls.push(call);
      const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        call.status = status;
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${options.token}`) return answer(401, { error: { code: 'AuthenticationFailed' } });
      if (!call.apiVersion) return answer(400, { error: { code: 'MissingApiVersionParameter' } });

      const comment = /^(.*\/Microsoft\.SecurityInsights\/incidents\/[^/]+)\/comments\/([^/]+)$/i.exec(url.pathname);
      if (comment) {
        const [, armId, commentId] = comment as unknown as [string, string, string];
        if (!incidents.has(armId)) return answer(404, { error: { code: 'NotFound' } });
        if (req.method !== 'PUT') return answer(405, { error: { code: 'MethodNotAllowed' } });
        const message = (body as { properties?: { message?: unknown } } | undefined)?.properties?.message;
        if (typeof message !== 'string' || message === '') return answer(400, { error: { code: 'BadRequest' } });
        const forIncident = comments.get(armId) ?? new Map<string, { message: string }>();
        comments.set(armId, forIncident);
        const existed = forIncident.has(commentId);
        forIncident.set(commentId, { message });
        return answer(existed ? 200 : 201, { id: `${armId}/comments/${commentId}`, name: commentId, properties: { message } });
      }

      const incident = incidents.get(url.pathname);
      if (!incident) return answer(404, { error: { code: 'NotFound' } });
      const resource = () => ({ id: url.pathname, name: url.pathname.split('/').pop(), etag: incident.etag, type: 'Microsoft.SecurityInsights/Incidents', properties: incident.properties });
      if (req.method === 'GET') return answer(200, resource(), { ETag: incident.etag });
      if (req.method === 'PUT') {
        if (concurrentChanges > 0) {
          concurrentChanges--;
          incident.etag = nextEtag(); // an analyst edited the incident between our GET and PUT
        }
        const sent = body as { etag?: string; properties?: StandInIncident['properties'] } | undefined;
        const etag = call.ifMatch ?? sent?.etag;
        if (etag && etag !== incident.etag) return answer(412, { error: { code: 'PreconditionFailed', message: 'etag mismatch' } });
        if (!sent?.properties?.severity || !sent.properties.title || !sent.properties.status) return answer(400, { error: { code: 'BadRequest' } });
        incident.properties = { ...sent.properties, labels: sent.properties.labels ?? [] };
        incident.etag = nextEtag();
        return answer(200, resource(), { ETag: incident.etag });
      }
      return answer(405, { error: { code: 'MethodNotAllowed' } });
    });
  };

  const { cert, key } = loopbackTls();
  const server = createServer({ cert, key }, handler);
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    incidents,
    comments,
    calls,
    addIncident(armId, properties) {
      incidents.set(armId, { etag: nextEtag(), properties: { severity: 'Low', status: 'New', title: 'incident', labels: [], ...properties } });
    },
    concurrentChangeBeforeNextPuts(n) {
      concurrentChanges = n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
