import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { CliIo } from '../../cli/io.js';
import type { Finding } from '../../shared/model.js';
import { type CrtshStandIn, dataset, startCrtshStandIn } from '../helpers/crtsh-stand-in.js';

let crtsh: CrtshStandIn;
beforeAll(async () => {
  crtsh = await startCrtshStandIn();
  crtsh.setHistory('example.com', dataset('example.com.json'));
});
afterAll(() => crtsh.stop());

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: { CRTSH_BASE_URL: crtsh.url, TLS_PROBE_ENABLED: 'false', ...env },
    cwd: process.cwd(),
    interactive: false,
  };
  return { cli, out: () => out.join(''), err: () => err.join('') };
}

describe('certsoar enrich', () => {
  it('prints the enrichment and the score', async () => {
    const t = io();
    expect(await main(['enrich', 'www.example.com'], t.cli)).toBe(0);
    expect(t.out()).toMatch(/^www\.example\.com: score 0 \(Informational\)/);
    expect(t.out()).toMatch(/CT history of example\.com \(crtsh\)/);
    expect(t.out()).toMatch(/14 certificates/);
    expect(t.out()).toMatch(/7 issuers/);
  });

  it('prints the finding as JSON with --json', async () => {
    const t = io();
    expect(await main(['enrich', '--json', 'example.com'], t.cli)).toBe(0);
    const finding = JSON.parse(t.out()) as Finding;
    expect(finding.enrichment.ct?.certificatesTotal).toBe(14);
    expect(finding.hit.detectionId).toBe('observable');
  });

  it('says what is missing when crt.sh is down, and still exits 0', async () => {
    crtsh.setPersistentFault({ kind: 'status', status: 503 });
    try {
      const t = io({ CRTSH_TIMEOUT: '1s' });
      const started = Date.now();
      const code = await main(['enrich', 'down.example.org'], t.cli);
      expect(code).toBe(0);
      expect(t.out()).toMatch(/missing crtsh \(retryable\): crt\.sh unavailable: HTTP 503/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      crtsh.setPersistentFault(undefined);
    }
  }, 60_000);

  it('exits 2 on bad usage', async () => {
    for (const args of [['enrich'], ['enrich', 'not a domain'], ['enrich', 'a.com', 'b.com'], ['enrich', '--bogus', 'a.com'], ['enrich', 'host:99999']]) {
      const t = io();
      expect(await main(args, t.cli)).toBe(2);
      expect(t.err()).toMatch(/usage: certsoar enrich/);
    }
  });
});
