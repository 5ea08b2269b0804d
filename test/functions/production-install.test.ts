import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type PackageUse, importGraph } from '../helpers/import-graph.js';

/**
 * Packaging (issue 17). The function app is installed with `npm ci --omit=dev --omit=optional`
 * (scripts/stage-function-app.ts, azure.yaml's prepackage hook), so:
 * - "dependencies" is exactly what the function entry points load: nothing more ships;
 * - a package only the CLI loads is an optionalDependency: `npm install` (the CLI installed as a
 *   package, or a clone) still installs it, the function app's install leaves it out;
 * - the CLI loads no devDependency, so every command (validate included) runs on an installed package.
 * Read from package.json and the import graphs of functions/*.ts and bin/certsoar.js (→ cli/run.ts).
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dependencies = new Set(Object.keys(pkg.dependencies));
const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
const dev = new Set(Object.keys(pkg.devDependencies));

const functionEntries = readdirSync(join(repo, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(repo, 'functions', f));
const functionsGraph = importGraph(repo, functionEntries);
const cliGraph = importGraph(repo, [join(repo, 'bin', 'certsoar.js')]);
const names = (uses: PackageUse[]) => new Set(uses.map((u) => u.name));
const why = (u: PackageUse) => `${u.chain.join(' → ')} loads ${u.specifier}`;

describe('the production install of the function app', () => {
  it('the graphs resolve (no relative import points nowhere)', () => {
    expect(functionEntries.length).toBeGreaterThan(0);
    expect([...functionsGraph.unresolved, ...cliGraph.unresolved]).toEqual([]);
  });

  it('functions load only "dependencies"', () => {
    expect(functionsGraph.packages.filter((u) => !dependencies.has(u.name)).map(why)).toEqual([]);
  });

  it('"dependencies" holds only what functions load (CLI-only packages are optional)', () => {
    const used = names(functionsGraph.packages);
    expect([...dependencies].filter((d) => !used.has(d))).toEqual([]);
  });

  it('the CLI loads no devDependency, and each package it loads is installed with it', () => {
    expect(cliGraph.packages.filter((u) => dev.has(u.name)).map(why)).toEqual([]);
    expect(cliGraph.packages.filter((u) => !dependencies.has(u.name) && !optional.has(u.name)).map(why)).toEqual([]);
    // The CLI-only packages this issue is about: the TypeScript runner, the card renderer, and the
    // Kusto language service `certsoar validate` needs.
    for (const name of ['tsx', 'adaptivecards', '@kusto/language-service-next']) {
      expect(names(cliGraph.packages).has(name), name).toBe(true);
      expect(optional.has(name), name).toBe(true);
    }
  });

  it('the deployment stages the app without development and optional packages', () => {
    expect(readFileSync(join(repo, 'azure.yaml'), 'utf8')).toMatch(/prepackage:\n\s+run: npx tsx scripts\/stage-function-app\.ts\n/);
    expect(readFileSync(join(repo, 'scripts', 'stage-function-app.ts'), 'utf8')).toMatch(/\['ci', '--omit=dev', '--omit=optional'/);
  });

  it('a package is declared once (not both a dependency and optional or dev)', () => {
    expect([...optional].filter((n) => dependencies.has(n) || dev.has(n))).toEqual([]);
    expect([...dependencies].filter((n) => dev.has(n))).toEqual([]);
  });
});

describe('the import-graph walker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsoar-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('follows static, dynamic and require.resolve uses, skips type-only imports and builtins, names the chain', () => {
    write('bin/x.js', "const { register } = await import('tsx/esm/api');\nawait import('../cli/run.ts');\n");
    write('cli/run.ts', "import { a } from './a.js';\nimport type { T } from 'typed-only';\nimport { readFileSync } from 'node:fs';\nexport { a, readFileSync };\n");
    write('cli/a.ts', "const require = createRequire(import.meta.url);\nexport const a = require.resolve('adaptivecards/dist/adaptivecards.min.js');\nimport { missing } from './nowhere.js';\n");
    const graph = importGraph(dir, [join(dir, 'bin/x.js')]);
    expect(graph.packages.map((u) => [u.name, u.chain.join(' → ')])).toEqual([
      ['tsx', 'bin/x.js'],
      ['adaptivecards', 'bin/x.js → cli/run.ts → cli/a.ts'],
    ]);
    expect(graph.unresolved).toEqual([{ chain: ['bin/x.js', 'cli/run.ts', 'cli/a.ts'], specifier: './nowhere.js' }]);
  });
});
