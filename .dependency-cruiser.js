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
      comment:
        'The function app is staged without development (and optional) packages. Which packages the functions ' +
        'reach through shared/, dynamic imports included, is checked in test/functions/production-install.test.ts.',
      severity: 'error',
      from: { path: '^(shared|functions)/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'functions-entry-points-use-dependencies',
      severity: 'error',
      from: { path: '^functions/' },
      to: { dependencyTypes: ['npm-dev', 'npm-optional'] },
    },
    {
      name: 'cli-runs-on-an-installed-package',
      comment: 'certsoar installed as a package has no devDependencies: every command, validate included, uses dependencies or optionalDependencies.',
      severity: 'error',
      from: { path: '^cli/' },
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
