import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { CliIo } from '../../cli/io.js';
import { oversizedFinding, sampleFinding } from '../shared/delivery/fixtures.js';
import { cardProblems } from '../shared/delivery/validate-card.js';

const dir = mkdtempSync(join(tmpdir(), 'certsoar-card-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out: string; err: string } {
  const b = { out: '', err: '' };
  return Object.assign(b, {
    stdout: (t: string) => void (b.out += t),
    stderr: (t: string) => void (b.err += t),
    env: {},
    cwd: dir,
    interactive: false,
  });
}

describe('certsoar card', () => {
  it('writes the card JSON, the Teams envelope and an HTML preview that renders', async () => {
    const finding = sampleFinding({ id: 'cli-one' });
    writeFileSync(join(dir, 'one.json'), JSON.stringify(finding));
    const t = io();
    expect(await main(['card', 'one.json', '--out', 'out1'], t)).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'out1', 'cli-one.card.json'), 'utf8'));
    expect(await cardProblems(card)).toEqual([]);
    const message = JSON.parse(readFileSync(join(dir, 'out1', 'cli-one.message.json'), 'utf8'));
    expect(message.attachments[0].content).toEqual(card);
    expect(t.out).toMatch(/cli-one\.card\.json {2}High score 6 {2}\d+ bytes/);

    const html = readFileSync(join(dir, 'out1', 'cli-one.html'), 'utf8');
    const dom = new JSDOM(html, { runScripts: 'dangerously' });
    const rendered = dom.window.document.getElementById('card')!;
    expect(rendered.children.length).toBeGreaterThan(0);
    expect(rendered.textContent).toContain('WKS-0042');
    expect(rendered.textContent).toContain('certificate is self-signed');
    dom.window.close();
  });

  it('reads NDJSON and keeps every card under the Teams limit', async () => {
    const lines = [sampleFinding({ id: 'nd-1' }), oversizedFinding()].map((f) => JSON.stringify(f)).join('\n');
    writeFileSync(join(dir, 'many.ndjson'), `${lines}\n`);
    const t = io();
    expect(await main(['card', 'many.ndjson', '--out', 'out2'], t)).toBe(0);
    const sizes = [...t.out.matchAll(/(\d+) bytes \(limit (\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(sizes).toHaveLength(2);
    for (const [bytes, limit] of sizes) expect(bytes).toBeLessThanOrEqual(limit!);
  });

  it('exits 2 on bad usage and 1 on a file that is not a finding', async () => {
    expect(await main(['card'], io())).toBe(2);
    expect(await main(['card', 'one.json', '--bogus'], io())).toBe(2);
    expect(await main(['card', 'does-not-exist.json'], io())).toBe(2);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ id: 'x' }));
    const t = io();
    expect(await main(['card', 'bad.json'], t)).toBe(1);
    expect(t.err).toContain('hit');
  });
});
