/**
 * `npm run bench`: every benchmark, each printing its figures as ratios against a baseline
 * measured in the same run. Exit 1 when a target is missed. `npm run bench -- hunt` runs one.
 */
import type { BenchResult } from './types.js';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<BenchResult[]> }>> = {
  scale: () => import('./scale.js'),
  hunt: () => import('./hunt.js'),
  enrich: () => import('./enrich.js'),
};

const only = process.argv.slice(2);
const results: BenchResult[] = [];
for (const [name, load] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n== ${name}`);
  const { run } = await load();
  for (const r of await run()) {
    results.push(r);
    console.log(`${r.pass ? 'PASS' : 'MISS'} ${r.name} (target: ${r.target})`);
    for (const [k, v] of Object.entries(r.figures)) console.log(`  ${k.padEnd(28)} ${v}`);
  }
}
const missed = results.filter((r) => !r.pass);
console.log(`\n${results.length - missed.length} met, ${missed.length} missed`);
process.exitCode = missed.length > 0 ? 1 : 0;
