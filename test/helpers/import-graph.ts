import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The packages a set of entry files loads at run time, found by walking their first-party import
 * graph as text: static and dynamic imports (`import type` / `export type` are erased by the
 * compiler and load nothing), `require('pkg')` through createRequire (the Kusto language service)
 * and `require.resolve('pkg/…')` (files read from a package, such as the adaptivecards bundle
 * inlined into reports). Each package comes with the chain of files
 * that reaches it, for the failure message.
 */
const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface PackageUse {
  name: string;
  specifier: string;
  chain: string[];
}

export interface ImportGraph {
  /** Bare (package) imports, one per importing file and specifier. */
  packages: PackageUse[];
  /** Relative imports that resolve to no source file. */
  unresolved: Array<{ chain: string[]; specifier: string }>;
}

export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function resolveLocal(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && /\.(ts|js|mjs)$/.test(candidate)) return candidate;
  }
  return undefined;
}

export function importGraph(root: string, entries: string[]): ImportGraph {
  const graph: ImportGraph = { packages: [], unresolved: [] };
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const here = [...chain, relative(root, file)];
    for (const m of source.matchAll(IMPORT)) {
      const specifier = (m[1] ?? m[2] ?? m[3]) as string;
      if (specifier.startsWith('.')) {
        const target = resolveLocal(file, specifier);
        if (target) walk(target, here);
        else graph.unresolved.push({ chain: here, specifier });
        continue;
      }
      const name = packageName(specifier);
      if (specifier.startsWith('node:') || builtinModules.includes(name)) continue;
      graph.packages.push({ name, specifier, chain: here });
    }
  };
  for (const entry of entries) walk(entry, []);
  return graph;
}
