import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { CHROMIUM, renderedHeight } from '../../../cli/report/screenshot.js';
import { captureIo } from '../../helpers/cli-io.js';

/**
 * Issue 14: `--png` cut the report (9,300 of 10,815 px): the window height was guessed from the
 * number of findings. Needs Chromium (Debian package chromium); without it this cannot run.
 */
const hasChromium = existsSync(CHROMIUM);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsoar-png-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.runIf(hasChromium)('certsoar hunt --png (Chromium installed)', () => {
  it('captures the whole rendered page, taller than the old guess', async () => {
    const io = captureIo({}, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', '2026-01-15T12:00:00Z', '--png', '--out', 'out'], io), io.err()).toBe(0);
    const { width, height } = pngSize(await readFile(join(dir, 'out', 'report.png')));
    expect(width).toBe(1100);
    const profile = await mkdtemp(join(tmpdir(), 'certsoar-png-profile-'));
    try {
      const page = await renderedHeight(CHROMIUM, profile, join(dir, 'out', 'report.html'), 1100);
      expect(height).toBe(page);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
    const findings = io.out().match(/(\d+) hit\(s\) → (\d+) finding\(s\)/)!;
    const oldGuess = Math.max(1000, 200 + Math.ceil(Number(findings[2]) / 2) * 700);
    expect(height).toBeGreaterThan(oldGuess);
  }, 120_000);
});
