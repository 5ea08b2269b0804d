#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx certsoar` works in a fresh clone after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../cli/run.ts');
