// Worker threads do not inherit vitest's TypeScript loader: tsx loads the worker's TypeScript.
import { tsImport } from 'tsx/esm/api';

await tsImport('./redos-worker.ts', import.meta.url);
