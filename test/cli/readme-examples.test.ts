import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { type CrtshReplay, startCrtshReplay } from '../../cli/offline/crtsh-replay.js';
import { captureIo } from '../helpers/cli-io.js';

/** The README's CLI examples print what the README says they print. */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(new URL('README.md', `file://${repo}`), 'utf8');
let replay: CrtshReplay;
beforeAll(async () => {
  replay = await startCrtshReplay({ dir: `${repo}samples/crtsh`, shiftMs: 0 });
});
afterAll(() => replay.close());

/** The text of every `code` span in the README paragraph that starts with `opening`. */
function quoted(opening: string): string[] {
  const start = readme.indexOf(opening);
  expect(start, `README paragraph "${opening}"`).toBeGreaterThan(-1);
  const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
  return [...paragraph.replace(/\n/g, ' ').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe('README examples', () => {
  it('enrich login.c0ntoso.com: score 3 (Medium) with the sample tuning, 0 (Informational) without', async () => {
    const spans = quoted('The look-alike signal needs');
    const command = spans.find((s) => s.startsWith('TUNING_FILE='))!;
    const [assignment, ...args] = command.split(' ');
    expect(args.slice(0, 2)).toEqual(['certsoar', 'enrich']);
    const withTuning = captureIo({ CRTSH_BASE_URL: replay.baseUrl, TUNING_FILE: assignment!.split('=')[1]! }, { cwd: repo });
    expect(await main(args.slice(1), withTuning)).toBe(0);
    const tunedLine = spans.find((s) => s.includes('score 3'))!;
    expect(withTuning.out().split('\n')[0]).toBe(tunedLine);
    expect(withTuning.out()).toContain(spans.find((s) => s.startsWith('+3 lookalike_domain'))!);

    const without = captureIo({ CRTSH_BASE_URL: replay.baseUrl }, { cwd: repo });
    expect(await main(args.slice(1), without)).toBe(0);
    expect(without.out().split('\n')[0]).toBe(spans.find((s) => s.includes('score 0'))!);
  });

  it('the list-edit example is a valid document that keeps the defaults it does not remove', async () => {
    const example = quoted('Weights, thresholds, lists').find((s) => s.startsWith('{"suppressions"'))!;
    const io = captureIo({ TUNING_JSON: example });
    expect(await main(['validate', '--print-effective'], io), io.err()).toBe(0);
    const ids = (JSON.parse(io.out()) as { suppressions: Array<{ id: string }> }).suppressions.map((s) => s.id);
    expect(ids).toContain('our-proxy');
    expect(ids).toContain('approved-cert-store-writer');
    expect(ids).not.toContain('dev-test-host');
  });

  it('the unknown-key example is the message validate prints', async () => {
    const message = quoted('Weights, thresholds, lists').find((s) => s.startsWith('tuning.organization'))!;
    const io = captureIo({ TUNING_JSON: '{"organization": {}}' });
    expect(await main(['validate'], io)).toBe(1);
    expect(io.err()).toContain(message);
  });

  it('certsoar --version', async () => {
    const io = captureIo();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out()).toMatch(/^certsoar \d+\.\d+\.\d+\n$/);
    expect(readme).toContain('certsoar --version');
  });
});
