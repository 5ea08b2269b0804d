/**
 * Layering, checked in `npm run lint`: the entry points (functions/, cli/) sit on shared/, shared/
 * never reaches back up, and shipped code never loads a development-only package.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'shared-is-not-an-entry-point',
      comment: 'shared/ holds the logic; functions/ and cli/ only wire it, so shared/ never imports them.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|cli|bin)/' },
    },
    {
      name: 'shared-has-no-functions-host',
      comment: 'shared/ never imports @azure/functions: the CLI and tests use it outside the host.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '@azure/functions' },
    },
    {
      name: 'entry-points-stay-apart',
      comment: 'functions/ and cli/ are siblings over shared/; neither imports the other.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^cli/' },
    },
    {
      name: 'cli-does-not-load-function-wiring',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^functions/' },
    },
    {
      name: 'no-test-or-devtools-in-product',
      comment: 'Test kits and development tools (the Kusto evaluator, grammars) never ship.',
      severity: 'error',
      from: { path: '^(shared|functions|cli)/' },
      to: { path: '^(test|devtools|bench|scripts)/' },
    },
    {
      name: 'functions-use-production-packages-only',
      comment: 'The function app is installed without development dependencies.',
      severity: 'error',
      // The KQL validator serves `certsoar validate` and the tests, never a function.
      from: { path: '^(shared|functions)/', pathNot: '^shared/detections/kql-validator\\.ts$' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(shared|functions|cli)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
  },
};
