import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes the cards of earlier runs, so cards/ holds exactly the current run's findings. */
export async function removeStaleCards(cardsDir: string, currentIds: ReadonlySet<string>): Promise<number> {
  let removed = 0;
  for (const name of await readdir(cardsDir)) {
    if (!name.endsWith('.json') || currentIds.has(name.slice(0, -'.json'.length))) continue;
    await rm(join(cardsDir, name), { force: true });
    removed += 1;
  }
  return removed;
}
