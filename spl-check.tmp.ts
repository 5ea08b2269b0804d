import { grammars } from './devtools/grammars/parsers.js';
import { splSearches } from './shared/detections/backends/spl.js';
import { loadTuning } from './shared/scoring/tuning.js';
const t = loadTuning({});
for (const s of splSearches(t)) { const r = grammars().spl.parse(s.search); console.log(s.name, s.search.length, r.ok ? 'OK' : JSON.stringify(r).slice(0,300), s.limitations); }
console.log(splSearches(t)[0]!.search);
