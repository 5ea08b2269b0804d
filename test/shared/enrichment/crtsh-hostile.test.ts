import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CrtshClientOptions, createCrtshClient } from '../../../shared/enrichment/crtsh-client.js';
import { type CrtshStandIn, gzipBomb, gzipped, redirectTo, startCrtshStandIn, streamedRecords, syntheticHistory } from '../../helpers/crtsh-stand-in.js';

/**
 * crt.sh answering like an adversary: redirects to loopback and to the cloud metadata address,
 * a million records, a gzip bomb, all three at once. The client reads within its caps, stops,
 * and memory stays bounded (peak RSS growth is sampled; before the caps it was 1.35–2.98 GB).
 */
let crtsh: CrtshStandIn;
let elsewhere: Server;
let elsewhereHits = 0;
let bomb: Buffer;

beforeAll(async () => {
  crtsh = await startCrtshStandIn();
  elsewhere = createServer((_req, res) => {
    elsewhereHits++;
    res.end('[]');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  bomb = await gzipBomb();
});
afterAll(async () => {
  await crtsh.stop();
  await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
});
beforeEach(() => crtsh.reset());

function client(over: Partial<CrtshClientOptions> = {}) {
  return createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 20_000, deadlineMs: 60_000, concurrency: 3, sleep: async () => {}, ...over });
}

/** Runs task while sampling RSS; answers the task's result and the peak growth in MB. */
async function peakRssGrowthMb<T>(task: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const result = await task();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMb: (peak - base) / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}

describe('crt.sh client against hostile answers', () => {
  it('does not follow a 302 to loopback: one request to crt.sh, none to the target', async () => {
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`;
    crtsh.setResponder('redirect.test', redirectTo(target));
    await expect(client().history('redirect.test')).rejects.toThrow(/redirect \(HTTP 302\); redirects are not followed/);
    expect(crtsh.requestCount).toBe(1);
    expect(elsewhereHits).toBe(0);
  });

  it('does not follow a 302 to 169.254.169.254 (never connects there): fails at once, not retried', async () => {
    crtsh.setResponder('metadata.test', redirectTo('http://169.254.169.254/latest/meta-data/iam/security-credentials/'));
    const c = client();
    await expect(c.history('metadata.test')).rejects.toThrow(/redirects are not followed/);
    expect(c.requestCount).toBe(1);
  });

  it('1,000,000 records: reads CRTSH_MAX_RECORDS (10,000), drops the connection, reports truncated', async () => {
    const endless = streamedRecords('million.test', 1_000_000);
    crtsh.setResponder('million.test', endless.respond);
    const { result: h, growthMb } = await peakRssGrowthMb(() => client().history('million.test'));
    expect(h.truncated).toBe(true);
    expect(h.rawRows).toBe(10_000);
    expect(endless.written).toBeLessThan(200_000); // the server stopped soon after the client hung up
    expect(growthMb).toBeLessThan(256);
  });

  it('a 0.4 MB gzip bomb stops at CRTSH_MAX_RESPONSE_BYTES after decompression', async () => {
    expect(bomb.length).toBeLessThan(600_000);
    crtsh.setResponder('bomb.test', gzipped(bomb));
    const { result, growthMb } = await peakRssGrowthMb(() => client({ maxResponseBytes: 8 * 1024 * 1024 }).history('bomb.test').catch((e: Error) => e));
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/larger than 8388608 bytes after decompression/);
    expect(growthMb).toBeLessThan(256);
  });

  it('the wire cap applies before decompression', async () => {
    crtsh.setResponder('wire.test', gzipped(bomb));
    await expect(client({ maxWireBytes: 100_000 }).history('wire.test')).rejects.toThrow(/larger than 100000 bytes on the wire/);
  });

  it('three at once (a million records and two bombs, default caps): memory stays bounded', async () => {
    const endless = streamedRecords('million3.test', 1_000_000);
    crtsh.setResponder('million3.test', endless.respond);
    crtsh.setResponder('bomb1.test', gzipped(bomb));
    crtsh.setResponder('bomb2.test', gzipped(bomb));
    const c = client();
    const { result, growthMb } = await peakRssGrowthMb(() =>
      Promise.allSettled([c.history('million3.test'), c.history('bomb1.test'), c.history('bomb2.test')]),
    );
    expect(result.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(growthMb).toBeLessThan(384);
  });

  it('a normal answer under the caps is read whole', async () => {
    crtsh.setHistory('fine.test', syntheticHistory('fine.test', 500));
    const h = await client({ maxRecords: 1_000 }).history('fine.test');
    expect(h.truncated).toBe(false);
    expect(h.rawRows).toBe(500);
  });
});

describe('crt.sh client: waiting for a slot honours the caller deadline', () => {
  it('a lookup whose deadline passes while every slot is busy fails without sending anything', async () => {
    crtsh.latencyMs = 1_500;
    crtsh.setHistory('busy.test', '[]');
    crtsh.setHistory('late.test', '[]');
    const c = client({ concurrency: 1 });
    const first = c.history('busy.test');
    const started = Date.now();
    await expect(c.history('late.test', { signal: AbortSignal.timeout(200) })).rejects.toThrow(/no request slot free before the deadline|no answer before the deadline/);
    const waited = Date.now() - started;
    await first;
    expect(crtsh.requests.map((r) => r.query.q)).toEqual(['%.busy.test']);
    expect(waited).toBeLessThan(1_400); // it did not wait for the busy slot (1.5 s)
  });
});
