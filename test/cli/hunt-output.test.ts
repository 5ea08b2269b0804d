import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { Finding } from '../../shared/model.js';
import { captureIo } from '../helpers/cli-io.js';

/** Issue 14, "pipes and signals" and the missing hunt options, through the CLI's entry points. */
const ANCHOR = '2026-01-15T12:00:00Z';
const repo = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsoar-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);

describe('certsoar --version', () => {
  it('prints the package version', async () => {
    const io = captureIo();
    expect(await main(['--version'], io)).toBe(0);
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(io.out()).toBe(`certsoar ${pkg.version}\n`);
  });
});

describe('certsoar hunt --limit / --min-level', () => {
  it('--min-level keeps findings at or above the level, --limit the highest N, and says how many were left out', async () => {
    const everything = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--out', 'all'], everything)).toBe(0);
    const all = lines(everything.out());
    const high = all.filter((f) => f.level === 'High');
    expect(high.length).toBeGreaterThan(2);
    expect(high.length).toBeLessThan(all.length);

    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--min-level', 'high', '--out', 'high'], io)).toBe(0);
    expect(lines(io.out()).map((f) => f.id)).toEqual(high.map((f) => f.id));
    expect(io.err()).toContain(`${all.length - high.length} finding(s) not shown (--min-level / --limit)`);
    expect((await readdir(join(dir, 'high', 'cards'))).length).toBe(high.length);

    const top = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--limit', '2'], top)).toBe(0);
    expect(lines(top.out()).map((f) => f.id)).toEqual(all.slice(0, 2).map((f) => f.id));
  });

  it.each([
    [['--min-level', 'critical'], /--min-level "critical" is not one of Informational, Low, Medium, High/],
    [['--limit', 'ten'], /--limit "ten" is not a whole number/],
  ])('%j is bad usage (exit 2)', async (args, message) => {
    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});

describe('certsoar hunt --out', () => {
  it('cards/ holds exactly the current run', async () => {
    const out = join(dir, 'rerun');
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--out', out], captureIo({}, { cwd: dir }))).toBe(0);
    const first = (await readdir(join(out, 'cards'))).length;
    await writeFile(join(out, 'cards', 'keep-me.txt'), 'not a card');
    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--detection', 'T1588.004', '--out', out], io)).toBe(0);
    const cards = (await readdir(join(out, 'cards'))).filter((n) => n.endsWith('.json')).sort();
    expect(cards).toEqual(lines(io.out()).map((f) => `${f.id}.json`).sort());
    expect(cards.length).toBeLessThan(first);
    await access(join(out, 'cards', 'keep-me.txt'));
  });
});

describe('certsoar hunt interrupted (Ctrl-C)', () => {
  it('finishes with what it has: findings scored without the unfinished enrichment, report written, exit 130, nothing delivered', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const io = captureIo({}, { cwd: dir, signal: interrupt.signal });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--json', '--out', 'interrupted'], io)).toBe(130);
    const found = lines(io.out());
    expect(found.length).toBeGreaterThan(10);
    expect(found.every((f) => f.enrichment?.missing.length)).toBe(true);
    await access(join(dir, 'interrupted', 'report.html'));
    expect(io.err()).toContain('interrupted');
  });
});

describe('certsoar hunt with stdout closed (| head -1)', () => {
  it('ends cleanly, writing the report, without an EPIPE stack trace', async () => {
    const out = join(dir, 'piped');
    const child = spawn(process.execPath, [join(repo, 'bin', 'certsoar.js'), 'hunt', '--offline', '--now', ANCHOR, '--out', out], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the command writes anything: every stdout write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
    await access(join(out, 'report.html'));
    expect((await readdir(join(out, 'cards'))).length).toBeGreaterThan(10);
  }, 60_000);
});
