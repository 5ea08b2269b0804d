import { execFile } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHROMIUM = '/usr/bin/chromium';

export type ScreenshotResult = { ok: true; file: string } | { ok: false; reason: string };

/**
 * Screenshots an HTML file with headless Chromium (Debian package chromium), no network and a
 * throwaway profile. Says why when it cannot, instead of failing the run.
 */
export async function screenshot(
  htmlFile: string,
  pngFile: string,
  options: { width?: number; height?: number; chromium?: string; timeoutMs?: number } = {},
): Promise<ScreenshotResult> {
  const chromium = options.chromium ?? CHROMIUM;
  try {
    await access(chromium);
  } catch {
    return { ok: false, reason: `Chromium is not installed (${chromium} not found; on Debian/Ubuntu: apt-get install -y chromium)` };
  }
  const profile = await mkdtemp(join(tmpdir(), 'certsoar-chromium-'));
  try {
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${pngFile}`,
        `--window-size=${options.width ?? 1100},${options.height ?? 1400}`,
        pathToFileURL(htmlFile).href,
      ],
      { timeout: options.timeoutMs ?? 60_000 },
    );
    await access(pngFile);
    return { ok: true, file: pngFile };
  } catch (err) {
    return { ok: false, reason: `Chromium failed: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
