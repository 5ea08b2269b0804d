/**
 * Stages what the function app runs into .deploy/ for `azd deploy` (azure.yaml: dist: .deploy,
 * remoteBuild: false, prepackage hook): the compiled dist/, host.json, package-lock.json, a
 * package.json without devDependencies or scripts, and node_modules installed from the lockfile
 * with dev dependencies omitted. The developer's own node_modules is never touched or shipped.
 *
 * Run: npx tsx scripts/stage-function-app.ts   (azd runs it before packaging)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STAGE_DIR = '.deploy';
/** Copied as they are (relative to the repository root). */
export const STAGED_FILES = ['dist', 'host.json', 'package-lock.json'] as const;

/** package.json as the deployed app needs it: what runs, and its production dependencies. */
export function deployedPackageJson(source: Record<string, unknown>): Record<string, unknown> {
  const keep = ['name', 'version', 'private', 'type', 'main', 'engines', 'dependencies'];
  return Object.fromEntries(Object.entries(source).filter(([k]) => keep.includes(k)));
}

function npm(args: string[], cwd: string): void {
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, stdio: 'inherit' });
}

function stage(): void {
  npm(['run', 'build'], repoRoot);
  const out = path.join(repoRoot, STAGE_DIR);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of STAGED_FILES) {
    if (!existsSync(path.join(repoRoot, f))) throw new Error(`${f} is missing: run npm run build first`);
    cpSync(path.join(repoRoot, f), path.join(out, f), { recursive: true });
  }
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(deployedPackageJson(pkg), null, 2)}\n`);
  // optionalDependencies are the CLI-only packages (test/functions/production-install.test.ts).
  npm(['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], out);
  console.log(`staged ${STAGE_DIR}/ (production dependencies only)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) stage();
