import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BicepFile,
  allBicepFiles,
  bodyObject,
  callsOf,
  declarationName,
  decoratorsOf,
  descendants,
  loadBicepFile,
  objectProperties,
  outputNames,
  paramsOf,
  parseBicep,
  stringArguments,
  stringValue,
  syntaxProblems,
  topLevel,
  undeclaredNames,
} from './bicep-tree.js';

const files = allBicepFiles();

/** Modules a file deploys: symbol → the module file. */
function modulesOf(file: BicepFile): Array<{ symbol: string; target: BicepFile; params: string[] }> {
  return topLevel(file, 'module_declaration').map((m) => {
    const pathNode = m.namedChildren.find((c) => c.type === 'string');
    const relative = pathNode ? stringValue(pathNode) : undefined;
    if (!relative) throw new Error(`${file.name}: module ${declarationName(m)} has no literal path`);
    const body = bodyObject(m);
    const params = body ? objectProperties(body).get('params') : undefined;
    return {
      symbol: declarationName(m),
      target: loadBicepFile(path.resolve(path.dirname(file.absolutePath), relative)),
      params: params ? [...objectProperties(params).keys()] : [],
    };
  });
}

describe('Bicep templates', () => {
  it('there is a main template and the modules the issue names', () => {
    const names = files.map((f) => f.name);
    for (const expected of [
      'main.bicep',
      'modules/function-app.bicep',
      'modules/function-app-settings.bicep',
      'modules/storage.bicep',
      'modules/monitoring.bicep',
      'modules/key-vault.bicep',
      'modules/logic-app-incident.bicep',
      'modules/logic-app-teams.bicep',
      'modules/sentinel-scheduled-rule.bicep',
      'modules/sentinel-findings-rule.bicep',
      'modules/findings-table.bicep',
      'modules/findings-dcr.bicep',
      'modules/sentinel-playbook-access.bicep',
      'modules/sentinel-playbook.bicep',
      'modules/sentinel-automation-rule.bicep',
      'modules/role-assignments.bicep',
      'modules/sentinel-access.bicep',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(files.map((f) => [f.name, f] as const))('%s parses with no ERROR or MISSING node', (_name, file) => {
    expect(syntaxProblems(file.root)).toEqual([]);
  });

  it('the syntax check reports a broken template', () => {
    const unclosed = parseBicep("param a string = {\n  b: 1\n");
    expect(syntaxProblems(unclosed).length).toBeGreaterThan(0);
    const missingValue = parseBicep("resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name:\n}\n");
    expect(syntaxProblems(missingValue).join('\n')).toMatch(/missing/);
    const stray = parseBicep("output o string = 'x' 'y'\n");
    expect(syntaxProblems(stray).length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [f.name, f] as const))('%s: every parameter and output has a @description', (_name, file) => {
    const undocumented = [...topLevel(file, 'parameter_declaration'), ...topLevel(file, 'output_declaration')]
      .filter((d) => {
        const call = decoratorsOf(d).get('description');
        const text = call ? descendants(call, 'string')[0] : undefined;
        return !text || (stringValue(text) ?? text.text).trim().length < 5;
      })
      .map(declarationName);
    expect(undocumented).toEqual([]);
  });

  it('the description check notices a missing one', () => {
    const root = parseBicep("@description('documented')\nparam a string\nparam b string\n");
    const undocumented = root.namedChildren.filter((d) => d.type === 'parameter_declaration' && !decoratorsOf(d).has('description')).map(declarationName);
    expect(undocumented).toEqual(['b']);
  });

  it.each(files.map((f) => [f.name, f] as const))('%s: no @secure() parameter and no list*() result reaches an output', (_name, file) => {
    const secure = new Set(paramsOf(file).filter((p) => p.secure).map((p) => p.name));
    const leaks: string[] = [];
    for (const output of topLevel(file, 'output_declaration')) {
      for (const id of descendants(output, 'identifier')) if (secure.has(id.text)) leaks.push(`${declarationName(output)} echoes ${id.text}`);
      for (const call of descendants(output, 'call_expression')) {
        const fn = call.namedChildren[0]?.text ?? '';
        if (/^list/i.test(fn)) leaks.push(`${declarationName(output)} calls ${fn}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('secrets are declared @secure() where they enter', () => {
    const main = files.find((f) => f.name === 'main.bicep') as BicepFile;
    const secure = paramsOf(main).filter((p) => p.secure).map((p) => p.name).sort();
    expect(secure).toEqual(['qradarToken', 'splunkHecToken', 'splunkToken', 'teamsWorkflowsWebhookUrl', 'tuningJson']);
    const vault = files.find((f) => f.name === 'modules/key-vault.bicep') as BicepFile;
    expect(paramsOf(vault).filter((p) => p.secure).map((p) => p.name).sort()).toEqual(['siemSecrets', 'teamsWorkflowsWebhookUrl', 'tuningJson']);
  });

  it('webhook callback URLs and function keys go only into Key Vault secrets or secure workflow parameters', () => {
    for (const file of files) {
      for (const call of [...callsOf(file.root, 'listCallbackUrl'), ...callsOf(file.root, 'listKeys')]) {
        let n = call.parent;
        const path: string[] = [];
        while (n) {
          if (n.type === 'object_property') path.unshift(n.namedChildren[0]?.text ?? '');
          if (n.type === 'resource_declaration') break;
          n = n.parent;
        }
        const resourceType = n ? stringValue(n.namedChildren[1] as never) : undefined;
        const where = `${file.name}: ${path.join('.')}`;
        if (resourceType?.startsWith('Microsoft.KeyVault/vaults/secrets@')) expect(path.join('.'), where).toBe('properties.value');
        else {
          expect(resourceType, where).toMatch(/^Microsoft\.Logic\/workflows@/);
          expect(path.join('.'), where).toBe('properties.parameters.enrichFunctionKey.value');
          expect(file.source).toMatch(/enrichFunctionKey: \{\s+type: 'securestring'/);
        }
      }
    }
  });

  it.each(files.map((f) => [f.name, f] as const))('%s: every name it uses is declared', (_name, file) => {
    expect(undeclaredNames(file)).toEqual([]);
  });

  it('the name check notices a typo', () => {
    const root = parseBicep("param storageName string\nresource sa 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {\n  name: storageName\n}\noutput id string = storageAcount.id\n");
    expect(undeclaredNames({ name: 'x.bicep', absolutePath: '/x.bicep', source: '', root })).toEqual(['storageAcount (line 5)']);
  });

  it('every module gets only parameters it declares, and every parameter it requires', () => {
    for (const file of files) {
      for (const module of modulesOf(file)) {
        const declared = paramsOf(module.target);
        const where = `${file.name} → ${module.target.name}`;
        expect(module.params.filter((p) => !declared.some((d) => d.name === p)), `${where}: unknown parameters`).toEqual([]);
        expect(declared.filter((d) => !d.hasDefault && !module.params.includes(d.name)).map((d) => d.name), `${where}: required parameters not given`).toEqual([]);
      }
    }
  });

  it('every <module>.outputs.<name> a template reads is an output of that module', () => {
    for (const file of files) {
      const modules = new Map(modulesOf(file).map((m) => [m.symbol, outputNames(m.target)]));
      for (const member of descendants(file.root, 'member_expression')) {
        const inner = member.namedChildren[0];
        if (inner?.type !== 'member_expression' || inner.namedChildren[1]?.text !== 'outputs') continue;
        const symbol = inner.namedChildren[0]?.text ?? '';
        const outputs = modules.get(symbol);
        if (!outputs) continue;
        expect(outputs, `${file.name}: ${member.text}`).toContain(member.namedChildren[1]?.text);
      }
    }
  });

  it('every file a template loads or deploys exists', () => {
    for (const file of files) {
      const loads = ['loadTextContent', 'loadJsonContent', 'loadFileAsBase64'].flatMap((fn) => callsOf(file.root, fn));
      for (const call of loads) {
        const [relative] = stringArguments(call);
        expect(relative, `${file.name}: ${call.text} needs a literal path`).toBeDefined();
        const target = path.resolve(path.dirname(file.absolutePath), relative as string);
        expect(existsSync(target), `${file.name}: ${relative}`).toBe(true);
      }
    }
  });
});
