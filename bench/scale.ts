import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import setupTls from '../test/global-setup.js';
import type { BenchResult } from './types.js';

/**
 * The goals of issue 15, each as a ratio against a floor measured in the same run:
 * - hunt at scale: 10,000 hits through huntDetection with the SHIPPED configuration (Table
 *   Storage seen hits and hunt state, the "hits" queue, all on Azurite; the shipped hunt limits)
 *   against the same hunt with in-memory stores: wall time and storage calls (≤ 3×);
 * - rows downloaded per row in the window, from the Log Analytics stand-in's own request log (1.0);
 * - function-app import: every dist/functions/*.js against `@azure/functions` alone (≤ 2×);
 * - offline demo: `node bin/certsoar.js hunt --offline` against the compiled CLI run directly
 *   (`node dist/cli/run.js`), the compiled floor (≤ 1.3×).
 * The 500,000-row T1608.003 peak RSS is bench/hunt.ts (run by the same `npm run bench`).
 * Imports and the demo need `dist`: this runs `npm run build` first.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** bench/scale-hunt.ts in a child process that trusts a test CA made here. */
async function huntAtScale(): Promise<BenchResult[]> {
  const teardown = await setupTls();
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'scale-hunt.ts')], { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`bench/scale-hunt.ts exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as BenchResult[];
  } finally {
    teardown();
  }
}

function build(): void {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
}

/** Milliseconds from process start to the end of an import of each of `specifiers`, in a fresh node. */
function importMs(specifiers: string[]): { ms: number; rssMb: number } {
  const script = `const t0 = performance.now(); for (const s of ${JSON.stringify(specifiers)}) await import(s); const ms = performance.now() - t0; console.log(JSON.stringify({ ms, rssMb: process.memoryUsage().rss / 1048576 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, HUNTS_ENABLED: '' } });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { ms: number; rssMb: number };
}

function functionImports(): BenchResult {
  const dir = join(root, 'dist', 'functions');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => new URL(`file://${join(dir, f)}`).href);
  const floor: number[] = [];
  const app: number[] = [];
  let rss = { floor: 0, app: 0 };
  for (let i = 0; i < 5; i++) {
    const f = importMs(['@azure/functions']);
    const a = importMs(files);
    floor.push(f.ms);
    app.push(a.ms);
    rss = { floor: f.rssMb, app: a.rssMb };
  }
  const ratio = median(app) / median(floor);
  return {
    name: `function app import: ${files.length} dist/functions files vs @azure/functions alone (median of 5)`,
    figures: { '@azure/functions ms': round(median(floor), 1), 'function app ms': round(median(app), 1), 'app / @azure/functions': round(ratio), 'RSS MB (floor / app)': `${Math.round(rss.floor)} / ${Math.round(rss.app)}` },
    pass: ratio <= 2,
    target: '≤ 2×',
  };
}

function timedRun(args: string[], cwd: string): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return ms;
}

function offlineDemo(): BenchResult {
  const cwd = mkdtempSync(join(tmpdir(), 'certsoar-bench-demo-'));
  try {
    const compiled = join(root, 'dist', 'cli', 'run.js');
    if (!existsSync(compiled)) throw new Error('dist/cli/run.js is missing after the build');
    const bin = join(root, 'bin', 'certsoar.js');
    const floor: number[] = [];
    const shipped: number[] = [];
    for (let i = 0; i < 5; i++) {
      floor.push(timedRun([compiled, 'hunt', '--offline', '--json', '--out', join(cwd, `f${i}`)], cwd));
      shipped.push(timedRun([bin, 'hunt', '--offline', '--json', '--out', join(cwd, `b${i}`)], cwd));
    }
    const ratio = median(shipped) / median(floor);
    return {
      name: 'offline demo: node bin/certsoar.js hunt --offline vs the compiled CLI run directly (median of 5)',
      figures: { 'compiled floor ms': Math.round(median(floor)), 'bin/certsoar.js ms': Math.round(median(shipped)), 'bin / compiled': round(ratio) },
      pass: ratio <= 1.3,
      target: '≤ 1.3×',
    };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * globMatch (shared/scoring/match.ts, owned by the tuning work) against the same globs compiled
 * once: the cost of building a RegExp on every call. Measured only; it reports when the function
 * is gone (replaced by a matcher compiled once).
 */
async function globCost(): Promise<BenchResult> {
  const match = (await import('../shared/scoring/match.js')) as { globMatch?: (pattern: string, value: string) => boolean };
  const patterns = ['*Fortinet*SSL*Inspection*', '*Palo Alto*Decrypt*', '*.contoso.com', '*-dev-*', 'CN=Contoso Issuing CA*', '*localhost*'];
  const values = ['CN=vpn.contoso.com, O=Contoso Ltd, C=US', 'Fortinet FortiGate SSL Deep Inspection CA', 'api-dev-03.corp.example', 'CN=update-cdn-service.net', 'Palo Alto Networks Decryption Root'];
  if (!match.globMatch) return { name: 'globMatch per call vs compiled once', figures: { note: 'globMatch is gone (replaced)' }, pass: true, target: 'measured only' };
  const globMatch = match.globMatch;
  const compiled = patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'is'));
  const N = 20_000;
  let hits = 0;
  let started = performance.now();
  for (let i = 0; i < N; i++) for (const v of values) for (const p of patterns) if (globMatch(p, v)) hits++;
  const perCallUs = ((performance.now() - started) * 1000) / (N * values.length * patterns.length);
  started = performance.now();
  for (let i = 0; i < N; i++) for (const v of values) for (const r of compiled) if (r.test(v)) hits--;
  const compiledUs = ((performance.now() - started) * 1000) / (N * values.length * patterns.length);
  return {
    name: 'globMatch: a new RegExp per call vs the same globs compiled once',
    figures: { 'globMatch µs/call': round(perCallUs, 3), 'compiled once µs/call': round(compiledUs, 3), 'per call / compiled': round(perCallUs / compiledUs, 1), 'matches differ': hits },
    pass: true,
    target: 'measured only (tuning.ts belongs to the cli work)',
  };
}

export async function run(): Promise<BenchResult[]> {
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()}`);
  const results = await huntAtScale();
  build();
  results.push(functionImports());
  results.push(offlineDemo());
  results.push(await globCost());
  console.log(`load average at end: ${load()}`);
  return results;
}
