import { gzipSync, deflateRawSync } from 'node:zlib';
import type { Detection } from '../shared/detections/types.js';
import { hitFromRow } from '../shared/detections/index.js';
import { testDetection } from '../test/shared/hunting/test-detection.js';
import { DEFAULT_TUNING } from '../shared/scoring/tuning.js';
const hits = [];
for (let i = 0; i < 1000; i++) { const h = (hitFromRow as any)(testDetection as unknown as Detection, { TimeGenerated: new Date(Date.now() - i * 1000).toISOString(), EventId: i, Host: `ws-${i % 500}.corp.contoso.com`, Extra: { port: 443, sni: `cdn${i % 97}.example.net` } }, DEFAULT_TUNING); if (h) hits.push(h); }
const json = JSON.stringify({ hits });
console.log(hits.length, JSON.stringify(hits[0]), json.length / hits.length);
for (const level of [1, 6]) { const s = performance.now(); const z = gzipSync(json, { level }); console.log('gzip', level, z.length / hits.length, Math.round((performance.now() - s) * 1000) / 1000, 'ms per 1000'); }
