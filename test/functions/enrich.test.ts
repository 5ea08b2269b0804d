import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EnrichDeps, makeEnrichHandler } from '../../functions/enrich.js';
import { createCrtshClient } from '../../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import type { Finding } from '../../shared/model.js';
import { findingId } from '../../shared/scoring/finding.js';
import { parseTuning } from '../../shared/scoring/tuning.js';
import { type CrtshStandIn, dataset, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';
import { INCIDENT_PAYLOAD } from '../helpers/sentinel-incident.js';

let crtsh: CrtshStandIn;
beforeAll(async () => {
  crtsh = await startCrtshStandIn();
  crtsh.setHistory('example.com', dataset('example.com.json'));
});
afterAll(() => crtsh.stop());
beforeEach(() => crtsh.reset());

const NOW = new Date('2023-01-20T00:00:00Z');
const tuning = parseTuning({ organisation: { domains: ['contoso.com'] } });

function handler(maxBodyBytes = 4_096, over: Partial<EnrichDeps> = {}) {
  const deps: EnrichDeps = {
    enricher: createEnricher({
      crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 1_000, concurrency: 3, maxAttempts: 2, sleep: async () => {}, now: () => NOW }),
      now: () => NOW,
    }),
    tuning,
    maxBodyBytes,
    maxJsonDepth: 64,
    deadlineMs: 20_000,
    now: () => NOW,
    ...over,
  };
  return makeEnrichHandler(() => deps);
}

const context = () => new InvocationContext({ functionName: 'enrich', invocationId: 'test-invocation', logHandler: () => {} });
const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/enrich', body: typeof body === 'string' ? { string: body } : { bytes: body }, headers });

type Answer = { findings: Finding[]; skipped: unknown[] };

describe('POST /api/enrich', () => {
  it('enriches and scores a bare domain', async () => {
    const res = await handler()(post(JSON.stringify({ domain: 'www.example.com' })), context());
    expect(res.status).toBe(200);
    const { findings } = res.jsonBody as Answer;
    expect(findings).toHaveLength(1);
    expect(findings[0]!.id).toBe(findingId({ detectionId: 'observable', key: 'domain:www.example.com' }));
    expect(findings[0]!.enrichment.ct).toMatchObject({ domain: 'example.com', certificatesTotal: 14 });
    expect(findings[0]!.level).toBe('Informational');
    expect(crtsh.requestCount).toBe(1);
  });

  it('enriches every observable of a Sentinel incident-trigger payload', async () => {
    const res = await handler(65_536)(post(JSON.stringify(INCIDENT_PAYLOAD)), context());
    expect(res.status).toBe(200);
    const { findings, skipped } = res.jsonBody as Answer;
    expect(findings).toHaveLength(5);
    expect(skipped).toHaveLength(2);
    expect(findings.every((f) => f.hit.incident?.incidentNumber === 412)).toBe(true);
    const lookalike = findings.find((f) => f.hit.row.Observable === 'login.c0ntoso.com')!;
    expect(lookalike.reasons.map((r) => r.id)).toContain('lookalike_domain');
  });

  it('answers 200 with the missing enrichment named when crt.sh is down, never a 5xx', async () => {
    crtsh.setPersistentFault({ kind: 'status', status: 502 });
    const res = await handler()(post(JSON.stringify({ domain: 'www.example.com' })), context());
    expect(res.status).toBe(200);
    const f = (res.jsonBody as Answer).findings[0]!;
    expect(f.enrichment.ct).toBeUndefined();
    expect(f.enrichment.missing).toEqual([{ source: 'crtsh', reason: expect.stringContaining('502'), retryable: true }]);
    crtsh.setPersistentFault({ kind: 'html200' });
    const again = await handler()(post(JSON.stringify({ sha1: 'ab'.repeat(20) })), context());
    expect(again.status).toBe(200);
  });

  it('answers 400 naming the failing field', async () => {
    const res = await handler()(post(JSON.stringify({ host: 'vpn.example.com', port: 'https' })), context());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { problems: Array<{ path: string }> }).problems[0]!.path).toBe('port');
    const unknown = await handler()(post(JSON.stringify({ detectionId: 'T0000', row: {} })), context());
    expect(unknown.status).toBe(400);
    expect((unknown.jsonBody as { problems: Array<{ path: string }> }).problems[0]!.path).toBe('detectionId');
  });

  it('answers 400 for a body that is not JSON, or empty', async () => {
    const res = await handler()(post('{"domain": '), context());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { message: string }).message).toMatch(/not JSON/);
    expect((await handler()(post(''), context())).status).toBe(400);
  });

  it('answers 413 when content-length is over the limit, without reading the body', async () => {
    const res = await handler(1_024)(post('{}', { 'content-length': '5000000' }), context());
    expect(res.status).toBe(413);
    expect(res.jsonBody).toMatchObject({ error: 'too_large', field: 'body' });
  });

  it('answers 413 when the bytes actually sent are over the limit, whatever content-length says', async () => {
    const big = JSON.stringify({ domain: 'example.com', pad: 'x'.repeat(3_000) });
    expect((await handler(1_024)(post(big), context())).status).toBe(413);
    expect((await handler(1_024)(post(big, { 'content-length': '20' }), context())).status).toBe(413);
    expect(crtsh.requestCount).toBe(0);
  });

  it('a cell like {"toString":0} is read as its JSON text (dynamic column), never a 500', async () => {
    const body = { detectionId: 'T1608.003', row: { DeviceAction: { toString: 0 }, DestinationPort: 443, DestinationHostName: 'c2.evil.example' } };
    const res = await handler()(post(JSON.stringify(body)), context());
    expect(res.status).toBe(200);
    expect(() => JSON.stringify(res.jsonBody)).not.toThrow();
  });

  it('4,200-deep nesting answers 400 naming where, before anything is parsed into hits', async () => {
    const deep = `{"detectionId":"T1608.003","row":{"DeviceAction":${'{"a":'.repeat(4_200)}1${'}'.repeat(4_200)}}}`;
    const res = await handler(1_048_576)(post(deep), context());
    expect(res.status).toBe(400);
    const problem = (res.jsonBody as { problems: Array<{ path: string; message: string }> }).problems[0]!;
    expect(problem.path).toMatch(/^row\.DeviceAction\.a\.a/);
    expect(problem.message).toBe('nested deeper than 64 levels');
  });

  it('a syntax error names the position, never the body', async () => {
    const res = await handler()(post('{"domain":"TOPSECRET.example" ]'), context());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.jsonBody)).toMatch(/line 1, column \d+/);
    expect(JSON.stringify(res.jsonBody)).not.toContain('TOPSECRET');
  });

  it('past ENRICH_DEADLINE it answers 200 with the findings so far, marked partial (crt.sh slower than the deadline)', async () => {
    crtsh.latencyMs = 5_000;
    const started = Date.now();
    const res = await handler(4_096, { deadlineMs: 300 })(post(JSON.stringify({ domain: 'www.example.com' })), context());
    expect(res.status).toBe(200);
    const body = res.jsonBody as Answer & { partial?: boolean };
    expect(body.partial).toBe(true);
    expect(body.findings).toHaveLength(1);
    expect(body.findings[0]!.enrichment.missing.map((m) => m.reason).join(' ')).toMatch(/deadline/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
