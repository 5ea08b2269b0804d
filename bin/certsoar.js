#!/usr/bin/env node
// Runs the compiled CLI (dist/cli/run.js, made by `npm run build`) when it is there; in a
// development clone without a build, the TypeScript sources through tsx. Compiled JavaScript
// starts in a fraction of the time tsx needs to load and transform the sources.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('../dist/cli/run.js', import.meta.url);
if (existsSync(compiled) && process.env.CERTSOAR_FROM_SOURCE !== '1') {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/run.ts');
}
