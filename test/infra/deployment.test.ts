import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRTSH_CACHE_TABLE } from '../../shared/state/crtsh-cache.js';
import { DELIVERY_TABLE } from '../../shared/state/delivery-ledger.js';
import { HUNT_STATE_TABLE } from '../../shared/state/hunt-state.js';
import { SEEN_HITS_TABLE } from '../../shared/state/seen-hits.js';
import { KNOWN_THREATS_TABLE } from '../../shared/state/known-threats.js';
import { ENRICH_LEDGER_TABLE, QUEUE_NAMES } from '../../shared/state/storage.js';
import { deployedPackageJson, STAGE_DIR, STAGED_FILES } from '../../scripts/stage-function-app.js';
import { allBicepFiles, bodyObject, descendants, infraDir, objectProperties, paramsOf, propertyKey, repoRoot, stringValue, topLevel } from './bicep-tree.js';

const files = allBicepFiles();
const main = files.find((f) => f.name === 'main.bicep')!;

/** Reads the small, flat YAML azure.yaml is (nested maps of scalars, two-space indents, no lists). */
function readSimpleYaml(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const stack: Array<{ indent: number; map: Record<string, unknown> }> = [{ indent: -1, map: root }];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const m = /^([\w.-]+):\s*(.*)$/.exec(line.trim());
    if (!m) throw new Error(`cannot read YAML line: ${raw}`);
    while ((stack[stack.length - 1]?.indent ?? -1) >= indent) stack.pop();
    const parent = stack[stack.length - 1]!.map;
    const [, key, value] = m as unknown as [string, string, string];
    if (value === '') {
      const child: Record<string, unknown> = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else parent[key] = value.replace(/^["']|["']$/g, '');
  }
  return root;
}

describe('deployment entry points', () => {
  it('main.bicep deploys at subscription scope', () => {
    const target = topLevel(main, 'target_scope_assignment');
    const text = target.length > 0 ? target[0]!.text : main.source;
    expect(text).toMatch(/targetScope = 'subscription'/);
  });

  it('main.parameters.json is azd-compatible and matches main.bicep', () => {
    const parameters = JSON.parse(readFileSync(path.join(infraDir, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    const declared = paramsOf(main);
    const given = Object.keys(parameters.parameters);
    expect(given.filter((g) => !declared.some((d) => d.name === g)), 'parameters main.bicep does not declare').toEqual([]);
    expect(declared.filter((d) => !d.hasDefault && !given.includes(d.name)).map((d) => d.name), 'required parameters without a value').toEqual([]);
    expect(parameters.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(parameters.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(String(parameters.parameters.principalId?.value)).toMatch(/^\$\{AZURE_PRINCIPAL_ID/);
    // Secrets come from the environment, never written into the file.
    for (const p of declared.filter((d) => d.secure)) {
      const value = parameters.parameters[p.name]?.value;
      if (value !== undefined) expect(String(value), p.name).toMatch(/^\$\{[A-Z_]+=?\}$/);
    }
  });

  it('azure.yaml deploys this folder to the function app main.bicep tags for it', () => {
    const azure = readSimpleYaml(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8'));
    expect(azure.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    const services = azure.services as Record<string, Record<string, string>>;
    expect(Object.keys(services)).toHaveLength(1);
    const [serviceName, service] = Object.entries(services)[0]!;
    expect(service).toEqual({
      project: '.',
      language: 'ts',
      host: 'function',
      remoteBuild: 'false',
      dist: STAGE_DIR,
      hooks: { prepackage: { run: 'npx tsx scripts/stage-function-app.ts' } },
    });
    const functionApp = files.find((f) => f.name === 'modules/function-app.bicep')!;
    expect(paramsOf(functionApp).find((p) => p.name === 'serviceName')).toBeDefined();
    expect(functionApp.source).toContain(`param serviceName string = '${serviceName}'`);
    expect(functionApp.source).toContain("'azd-service-name': serviceName");
  });

  it('the package holds the compiled app and production dependencies only, and .funcignore agrees', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    const deployed = deployedPackageJson(pkg);
    expect(deployed).not.toHaveProperty('devDependencies');
    expect(deployed).not.toHaveProperty('scripts');
    expect(deployed['dependencies']).toEqual(pkg['dependencies']);
    expect(String(deployed['main'])).toMatch(/^dist\//);
    expect([...STAGED_FILES]).toEqual(['dist', 'host.json', 'package-lock.json']);
    const patterns = readFileSync(path.join(repoRoot, '.funcignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    // Anchored, so nothing inside node_modules (a package's own cli/ or test/) is dropped by accident.
    for (const p of patterns) expect(p, p).toMatch(/^\//);
    for (const shipped of ['/dist/', '/host.json', '/package.json', '/package-lock.json', '/node_modules/']) expect(patterns).not.toContain(shipped);
    for (const dropped of ['/shared/', '/functions/', '/test/', '/local.settings.json', '/.deploy/']) expect(patterns).toContain(dropped);
  });

  it('the function app runs on Flex Consumption, Node 22, deployed from blob storage by its own identity', () => {
    const functionApp = files.find((f) => f.name === 'modules/function-app.bicep')!;
    const resourcesByType = new Map(
      topLevel(functionApp, 'resource_declaration').map((r) => [stringValue(r.namedChildren[1] as never)?.split('@')[0], bodyObject(r)!] as const),
    );
    const plan = objectProperties(resourcesByType.get('Microsoft.Web/serverfarms')!);
    const sku = objectProperties(plan.get('sku')!);
    expect(stringValue(sku.get('name')!)).toBe('FC1');
    expect(stringValue(sku.get('tier')!)).toBe('FlexConsumption');
    const site = objectProperties(resourcesByType.get('Microsoft.Web/sites')!);
    expect(stringValue(site.get('kind')!)).toBe('functionapp,linux');
    expect(stringValue(objectProperties(site.get('identity')!).get('type')!)).toBe('SystemAssigned');
    const config = objectProperties(objectProperties(site.get('properties')!).get('functionAppConfig')!);
    const runtime = objectProperties(config.get('runtime')!);
    expect([stringValue(runtime.get('name')!), stringValue(runtime.get('version')!)]).toEqual(['node', '22']);
    const storage = objectProperties(objectProperties(config.get('deployment')!).get('storage')!);
    expect(stringValue(storage.get('type')!)).toBe('blobContainer');
    expect(stringValue(objectProperties(storage.get('authentication')!).get('type')!)).toBe('SystemAssignedIdentity');
    expect(config.has('scaleAndConcurrency')).toBe(true);
  });

  it('storage allows no shared key and Key Vault is in RBAC mode', () => {
    const storage = files.find((f) => f.name === 'modules/storage.bicep')!;
    const vault = files.find((f) => f.name === 'modules/key-vault.bicep')!;
    const flag = (file: typeof storage, key: string): string | undefined => {
      const property = descendants(file.root, 'object_property').find((p) => propertyKey(p) === key);
      return property?.namedChildren[1]?.text;
    };
    expect(flag(storage, 'allowSharedKeyAccess')).toBe('false');
    expect(flag(storage, 'allowBlobPublicAccess')).toBe('false');
    expect(flag(vault, 'enableRbacAuthorization')).toBe('true');
    const monitoring = files.find((f) => f.name === 'modules/monitoring.bicep')!;
    expect(flag(monitoring, 'DisableLocalAuth')).toBe('true');
  });

  it('the queues and tables created are the ones the code uses', () => {
    const storage = files.find((f) => f.name === 'modules/storage.bicep')!;
    const defaults = (name: string): string[] => {
      const param = topLevel(storage, 'parameter_declaration').find((p) => p.namedChildren[0]?.text === name);
      const array = param?.namedChildren.find((c) => c.type === 'array');
      return array ? array.namedChildren.map((n) => stringValue(n) ?? '?') : [];
    };
    expect(defaults('queueNames').sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    expect(storage.source).toContain("[q, '${q}-poison']");
    expect(defaults('tableNames').sort()).toEqual([HUNT_STATE_TABLE, SEEN_HITS_TABLE, CRTSH_CACHE_TABLE, DELIVERY_TABLE, ENRICH_LEDGER_TABLE, KNOWN_THREATS_TABLE].sort());
  });
});
