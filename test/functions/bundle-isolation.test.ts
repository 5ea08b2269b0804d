import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The function app must never load development-only code at run time (the Kusto language
 * service alone is 16 MB). Walks the import graph from every functions/*.ts entry point through
 * first-party files and fails on any package that is not a runtime dependency.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

// `import type` / `export type` are erased by the compiler and load nothing.
const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface ImportProblem {
  chain: string[];
  specifier: string;
  why: string;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function resolveLocal(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  }
  return undefined;
}

/** Every bare import reachable from the entry files that is not allowed at run time. */
export function runtimeImportProblems(root: string, entries: string[], runtime: Set<string>, forbidden: (name: string) => boolean): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of source.matchAll(IMPORT)) {
      const specifier = (m[1] ?? m[2]) as string;
      const here = [...chain, relative(root, file)];
      if (specifier.startsWith('.')) {
        const target = resolveLocal(file, specifier);
        // devtools/ (the KQL evaluator and other test tooling) never ships in the function app.
        if (target && relative(root, target).split(sep)[0] === 'devtools') problems.push({ chain: here, specifier, why: 'development tooling (devtools/)' });
        else if (target) walk(target, here);
        else problems.push({ chain: here, specifier, why: 'unresolved relative import' });
        continue;
      }
      const name = packageName(specifier);
      if (specifier.startsWith('node:') || builtinModules.includes(name)) continue;
      if (forbidden(name)) problems.push({ chain: here, specifier, why: 'development-only module' });
      else if (!runtime.has(name)) problems.push({ chain: here, specifier, why: 'not a runtime dependency in package.json' });
    }
  };
  for (const entry of entries) walk(entry, []);
  return problems;
}

const DEV_ONLY = new Set(Object.keys(pkg.devDependencies));
const forbidden = (name: string) => name.startsWith('@kusto/') || DEV_ONLY.has(name) || name.startsWith('tree-sitter');
const runtime = new Set(Object.keys(pkg.dependencies));

describe('functions/ bundle isolation', () => {
  it('reaches no development-only module from any function entry point', () => {
    const functionsDir = join(repoRoot, 'functions');
    const entries = readdirSync(functionsDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(functionsDir, f));
    expect(entries.length).toBeGreaterThan(0);
    const problems = runtimeImportProblems(repoRoot, entries, runtime, forbidden);
    expect(problems.map((p) => `${[...p.chain].join(' → ')} imports ${p.specifier}: ${p.why}`)).toEqual([]);
  });

  it('treats the listed dev tools as forbidden', () => {
    for (const name of ['@kusto/language-service-next', 'vitest', 'jsdom', 'azurite', 'tree-sitter', 'tree-sitter-bicep', '@peculiar/x509']) {
      expect(forbidden(name), name).toBe(true);
    }
    expect(forbidden('zod')).toBe(false);
  });

  describe('the walker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certsoar-imports-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };

    it('follows relative imports and reports the chain to a forbidden package', () => {
      write('functions/hunt.ts', "import { run } from '../shared/a.js';\nimport type { X } from '../shared/types-only.js';\nexport const x = run;\n");
      write('shared/a.ts', "export { b } from './b.js';\nimport { z } from 'zod';\nexport const run = z;\n");
      write('shared/b.ts', "import '@kusto/language-service-next/bridge.min.js';\nconst lazy = () => import('vitest');\nexport const b = lazy;\n");
      write('shared/types-only.ts', "import { x } from 'jsdom';\nexport type X = typeof x;\n");
      const problems = runtimeImportProblems(dir, [join(dir, 'functions/hunt.ts')], runtime, forbidden);
      expect(problems).toEqual([
        { chain: ['functions/hunt.ts', 'shared/a.ts', 'shared/b.ts'], specifier: '@kusto/language-service-next/bridge.min.js', why: 'development-only module' },
        { chain: ['functions/hunt.ts', 'shared/a.ts', 'shared/b.ts'], specifier: 'vitest', why: 'development-only module' },
      ]);
    });

    it('reports an import of devtools/ (test tooling) from the function app', () => {
      write('functions/exec.ts', "import { executeKql } from '../devtools/kusto/execute.js';\nexport const e = executeKql;\n");
      write('devtools/kusto/execute.ts', 'export const executeKql = 1;\n');
      const problems = runtimeImportProblems(dir, [join(dir, 'functions/exec.ts')], runtime, forbidden);
      expect(problems).toEqual([{ chain: ['functions/exec.ts'], specifier: '../devtools/kusto/execute.js', why: 'development tooling (devtools/)' }]);
    });

    it('reports packages missing from dependencies', () => {
      write('functions/other.ts', "import left from 'left-pad';\nimport { readFile } from 'node:fs/promises';\nimport path from 'path';\nexport { left, readFile, path };\n");
      const problems = runtimeImportProblems(dir, [join(dir, 'functions/other.ts')], runtime, forbidden);
      expect(problems.map((p) => p.specifier)).toEqual(['left-pad']);
    });
  });
});
