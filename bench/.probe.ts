import { loadConfig } from '../shared/config.js';
import type { Detection } from '../shared/detections/types.js';
import { huntDetection, huntSettings } from '../shared/hunting/hunt-detection.js';
import { createLogsQueryClient } from '../shared/hunting/log-analytics.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';
import { QueueHitSink } from '../shared/state/hit-queue.js';
import { TableHuntState } from '../shared/state/hunt-state.js';
import { TableSeenHits } from '../shared/state/seen-hits.js';
import { storageClients } from '../shared/state/storage.js';
import { startAzurite } from '../test/helpers/azurite.js';
import { startLogAnalyticsServer } from '../test/helpers/log-analytics-server.js';
import { TEST_COLUMNS, fakeCredential, testDetection } from '../test/shared/hunting/test-detection.js';
import { logAnalyticsSource } from '../shared/hunting/sources/hunt-source.js';
const NOW = new Date('2026-03-01T12:00:00Z'); const MIN = 60_000; const HITS = 10_000;
const [server, azurite] = await Promise.all([startLogAnalyticsServer({ columns: TEST_COLUMNS }), startAzurite()]);
server.now = () => NOW;
for (let i = 0; i < HITS; i++) { const ingestedAt = new Date(NOW.getTime() - 6 * MIN - Math.floor((i * 300 * MIN) / HITS)); server.records.push({ row: { TimeGenerated: ingestedAt.toISOString(), EventId: i, Host: `ws-${i % 500}.corp.contoso.com`, Extra: { port: 443, sni: `cdn${i % 97}.example.net` } }, ingestedAt }); }
const config = loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString });
const logs = createLogsQueryClient(fakeCredential(), { endpoint: server.endpoint, retry: { maxRetries: 0 } });
const clients = storageClients(config)!;
const t: Record<string, number> = {};
const wrap = <T extends object>(o: T, name: string): T => new Proxy(o, { get(target, p, r) { const v = Reflect.get(target, p, r); if (typeof v !== 'function') return v; return async (...a: unknown[]) => { const s = performance.now(); try { return await v.apply(target, a); } finally { const k = `${name}.${String(p)}`; t[k] = (t[k] ?? 0) + performance.now() - s; } }; } });
for (let i = 0; i < 4; i++) {
  for (const k of Object.keys(t)) delete t[k];
  const scope = `p${i}`;
  const s = performance.now();
  const r = await huntDetection(testDetection as unknown as Detection, { source: wrap(logAnalyticsSource(logs, '11111111-2222-3333-4444-555555555555'), 'src'), tuning: DEFAULT_TUNING, settings: huntSettings(config), now: () => NOW,
    state: wrap(new TableHuntState(clients.table('probestate'), scope), 'state'), seen: wrap(new TableSeenHits(clients.table('probeseen'), scope), 'seen'), sink: wrap(new QueueHitSink(clients.queue(`probe-${scope}`)), 'sink') });
  console.log(r.status, r.newHits, Math.round(performance.now() - s), JSON.stringify(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]))));
}
await Promise.all([server.close(), azurite.stop()]);
