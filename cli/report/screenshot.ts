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
  options: { width?: number; height?: number; fullPage?: boolean; chromium?: string; timeoutMs?: number } = {},
): Promise<ScreenshotResult> {
  const chromium = options.chromium ?? CHROMIUM;
  try {
    await access(chromium);
  } catch {
    return { ok: false, reason: `Chromium is not installed (${chromium} not found; on Debian/Ubuntu: apt-get install -y chromium)` };
  }
  const profile = await mkdtemp(join(tmpdir(), 'certsoar-chromium-'));
  try {
    const width = options.width ?? 1100;
    // Headless Chromium shoots the window only: the window is made as tall as the rendered page.
    const height = options.fullPage ? await renderedHeight(chromium, profile, htmlFile, width, options.timeoutMs) : (options.height ?? 1400);
    await run(
      chromium,
      [
        ...chromiumFlags(profile),
        `--screenshot=${pngFile}`,
        `--window-size=${width},${height}`,
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

/** The page height the report's own script records (data-page-height) after drawing its cards. */
export async function renderedHeight(chromium: string, profile: string, htmlFile: string, width: number, timeoutMs = 60_000): Promise<number> {
  const { stdout } = await run(chromium, [...chromiumFlags(profile), '--dump-dom', '--virtual-time-budget=10000', `--window-size=${width},1000`, pathToFileURL(htmlFile).href], {
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
  });
  const height = Number(/data-page-height="(\d+)"/.exec(stdout)?.[1]);
  if (!Number.isFinite(height) || height <= 0) throw new Error('the report did not say its height (data-page-height)');
  return Math.min(height, 60_000);
}

function chromiumFlags(profile: string): string[] {
  return [
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
  ];
}
