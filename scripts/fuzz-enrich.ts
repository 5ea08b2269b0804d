/**
 * npm run fuzz [-- <cases> <seed>]: the POST /api/enrich property-based fuzz (test/fuzz) run
 * longer than in npm test, against the loopback crt.sh stand-in, printing its counts. Exits 1
 * when any case answered 5xx, did not serialise, or answered a 4xx without naming the field.
 */
import { createCrtshClient } from '../shared/enrichment/crtsh-client.js';
import { createEnricher } from '../shared/enrichment/enricher.js';
import { startCrtshStandIn, syntheticHistory } from '../test/helpers/crtsh-stand-in.js';
import { enrichDepsForFuzz, fuzzEnrich } from '../test/fuzz/enrich-fuzz.js';

const cases = Number(process.argv[2] ?? 30_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const crtsh = await startCrtshStandIn();
crtsh.setDefaultHistory((domain) => syntheticHistory(domain, 20));
const now = () => new Date('2026-11-20T12:00:00Z');
const started = Date.now();
try {
  const counts = await fuzzEnrich({
    numRuns: cases,
    seed,
    deps: enrichDepsForFuzz({
      enricher: createEnricher({ crtsh: createCrtshClient({ baseUrl: crtsh.url, timeoutMs: 2_000, concurrency: 3, maxAttempts: 1, now }), now }),
    }),
  });
  const statuses = Object.entries(counts.byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  console.log(`fuzz POST /api/enrich: ${counts.cases} cases, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  by status: ${statuses}`);
  console.log(`  5xx: ${Object.entries(counts.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0)}, failures: ${counts.failures.length}`);
  for (const f of counts.failures) console.log(`  - ${f.problem}\n    body: ${f.body}`);
  process.exitCode = counts.failures.length > 0 ? 1 : 0;
} finally {
  await crtsh.stop();
}
