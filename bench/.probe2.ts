import { loadConfig } from '../shared/config.js';
import { storageClients } from '../shared/state/storage.js';
import { mapLimit } from '../shared/state/limit.js';
import { startAzurite } from '../test/helpers/azurite.js';
const azurite = await startAzurite();
const clients = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }))!;
for (const [n, size, conc] of [[100, 60000, 16], [100, 60000, 1], [100, 6000, 16], [20, 60000, 16], [100, 60000, 16], [100, 6000, 16]] as const) {
  const q = clients.queue(`x${n}-${size}-${conc}-${Math.random().toString(36).slice(2, 6)}`); await q.createIfNotExists();
  const text = 'A'.repeat(size);
  const s = performance.now();
  await mapLimit(Array.from({ length: n }), conc, () => q.sendMessage(text, { messageTimeToLive: -1 }));
  console.log(n, size, conc, Math.round(performance.now() - s));
}
await azurite.stop();
