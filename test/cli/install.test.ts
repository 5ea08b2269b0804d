import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Issue 14: outside the repository `npx certsoar` asked the registry for a stranger's package.
 * The README installs the clone or a packed tarball instead; what those need is checked here
 * without the registry: the packed file list, and the bin run from an unrelated folder.
 * (Installing the tarball fetches the dependencies from the registry, so it is not run in tests.)
 */
const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('certsoar installed outside the repository', () => {
  it('the packed tarball holds the bin, the CLI, shared/, the samples and the tsx it runs on', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo, maxBuffer: 16 * 1024 * 1024 });
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const f of ['bin/certsoar.js', 'cli/run.ts', 'cli/main.ts', 'shared/config.ts', 'samples/tuning.json', 'samples/workspace/CommonSecurityLog.ndjson', 'package.json']) {
      expect(files.has(f), f).toBe(true);
    }
    const pkg = (await import(join(repo, 'package.json'), { with: { type: 'json' } })) as { default: { bin: Record<string, string>; dependencies: Record<string, string> } };
    expect(pkg.default.bin.certsoar).toBe('bin/certsoar.js');
    expect(pkg.default.dependencies.tsx).toBeDefined();
  }, 60_000);

  it('the bin runs from any folder: --version and the offline demo', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'certsoar-elsewhere-'));
    try {
      const version = await run(process.execPath, [join(repo, 'bin', 'certsoar.js'), '--version'], { cwd: elsewhere });
      expect(version.stdout).toMatch(/^certsoar \d+\.\d+\.\d+\n$/);
      const demo = await run(process.execPath, [join(repo, 'bin', 'certsoar.js'), 'hunt', '--offline', '--now', '2026-01-15T12:00:00Z', '--min-level', 'High', '--out', 'out'], { cwd: elsewhere });
      expect(demo.stdout).toMatch(/wrote \d+ finding\(s\)/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  }, 60_000);
});
