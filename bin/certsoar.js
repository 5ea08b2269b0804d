#!/usr/bin/env node
// Runs the compiled CLI (dist/cli/run.js, made by `npm run build`) when it is there and no newer
// than the sources; otherwise (a development clone, or sources edited since the build) the
// TypeScript sources through tsx. Compiled JavaScript starts in a fraction of the time tsx needs
// to load and transform the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const compiled = new URL('../dist/cli/run.js', import.meta.url);
const sources = new URL('../cli/run.ts', import.meta.url);

/** Newest modification time (ms) of the .ts files under the given directories. */
function newestSource(dirs) {
  let newest = 0;
  for (const dir of dirs) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const useCompiled = existsSync(compiled) && (!existsSync(sources) || statSync(compiled).mtimeMs >= newestSource([`${root}cli`, `${root}shared`]));
if (useCompiled) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/run.ts');
}
