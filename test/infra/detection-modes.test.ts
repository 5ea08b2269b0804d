import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTIONS } from '../../shared/detections/index.js';
import { allBicepFiles, bodyObject, callsOf, decoratorsOf, infraDir, loadBicepFile, objectProperties, paramsOf, topLevel } from './bicep-tree.js';

/**
 * main.bicep's detection modes: hunts deploys the findings table, DCR and rule; rules deploys one
 * scheduled rule per detection, each gated on a parameter per table it reads; never both. Checked
 * on the tree-sitter syntax tree (no Bicep compiler runs here).
 */
const main = loadBicepFile(path.join(infraDir, 'main.bicep'));
const modules = topLevel(main, 'module_declaration').map((m) => ({
  name: m.namedChildren[0]?.text ?? '',
  path: /'([^']+\.bicep)'/.exec(m.text)?.[1] ?? '',
  condition: /=\s*if\s*\(([^)]*(?:\([^)]*\)[^)]*)*)\)\s*\{/.exec(m.text)?.[1] ?? '',
  node: m,
}));
const byPath = (p: string) => modules.filter((m) => m.path === p);

/** The Bicep parameter that says the workspace has a table. */
const tableParam = (table: string) => `table${table}`;

describe('detection mode', () => {
  it('is a parameter with exactly hunts and rules, hunts by default', () => {
    const mode = topLevel(main, 'parameter_declaration').find((p) => p.namedChildren[0]?.text === 'detectionMode');
    expect(mode?.text).toContain("param detectionMode string = 'hunts'");
    expect(decoratorsOf(mode!).get('allowed')?.text).toMatch(/\[\s*'hunts'\s*'rules'\s*\]/);
  });

  it('hunts mode deploys the findings table, DCR and rule; rules mode the detection rules, playbook and automation', () => {
    for (const p of ['modules/findings-table.bicep', 'modules/findings-dcr.bicep', 'modules/sentinel-findings-rule.bicep']) expect(byPath(p).map((m) => m.condition), p).toEqual(['huntsMode']);
    for (const p of ['modules/sentinel-playbook.bicep', 'modules/sentinel-playbook-access.bicep']) expect(byPath(p).map((m) => m.condition), p).toEqual(['rulesMode']);
    expect(byPath('modules/sentinel-automation-rule.bicep').map((m) => m.condition)).toEqual(['anyDetectionRule']);
    expect(main.source).toMatch(/var anyDetectionRule = rulesMode && /);
    expect(main.source).toContain("var rulesMode = detectionMode == 'rules'");
    expect(main.source).toContain("var huntsMode = detectionMode == 'hunts'");
    // the incident webhook is opt-in, never a second incident by default
    expect(byPath('modules/logic-app-incident.bicep').map((m) => m.condition)).toEqual(['deployIncidentWebhook']);
    expect(paramsOf(main).find((p) => p.name === 'deployIncidentWebhook')?.hasDefault).toBe(true);
    expect(main.source).toContain('param deployIncidentWebhook bool = false');
    // and the incident it creates keeps to the portal's limits
    const webhook = allBicepFiles().find((f) => f.name === 'modules/logic-app-incident.bicep')!.source;
    expect(webhook).toMatch(/title: '@\{substring\(.*min\(256, length/);
    expect(webhook).toMatch(/description: '@\{substring\(.*min\(5000, length/);
  });

  it('each detection is its own rules-mode deployment, gated on a parameter per table it reads', () => {
    const rules = byPath('modules/sentinel-scheduled-rule.bicep');
    expect(rules).toHaveLength(DETECTIONS.length);
    for (const d of DETECTIONS) {
      const rule = rules.find((r) => objectProperties(objectProperties(bodyObject(r.node)!).get('params')!).get('rule')!.text.includes(`'${d.meta.id}'`));
      expect(rule, d.meta.id).toBeDefined();
      const terms = rule!.condition.split('&&').map((t) => t.trim()).sort();
      expect(terms, d.meta.id).toEqual(['rulesMode', ...d.meta.tables.map(tableParam)].sort());
      for (const t of d.meta.tables) {
        const param = topLevel(main, 'parameter_declaration').find((p) => p.namedChildren[0]?.text === tableParam(t));
        expect(param?.text, t).toContain(`param ${tableParam(t)} bool = false`);
        // the description names the data connector that fills the table
        expect(decoratorsOf(param!).get('description')?.text, t).toMatch(/data connector/);
      }
    }
  });

  it('rules mode without the Sentinel service principal fails the deployment saying how to find it', () => {
    const check = topLevel(main, 'variable_declaration').find((v) => v.namedChildren[0]?.text === 'sentinelAutomationPrincipalId');
    expect(check).toBeDefined();
    const fail = callsOf(check!, 'fail');
    expect(fail).toHaveLength(1);
    expect(fail[0]!.text).toContain('az ad sp show --id 98785600-1bb7-4fb9-b9fa-19afe2c8a360');
    expect(main.source).toContain('sentinelServicePrincipalId: rulesMode ? sentinelAutomationPrincipalId');
  });

  it('nothing reads a key during provisioning: no listKeys() anywhere, the playbook reads it from ARM at run time', () => {
    for (const file of allBicepFiles()) expect(callsOf(file.root, 'listKeys').map((c) => `${file.name}: ${c.text}`)).toEqual([]);
    const playbook = allBicepFiles().find((f) => f.name === 'modules/sentinel-playbook.bicep')!;
    expect(playbook.source).toContain("type: 'ManagedServiceIdentity'");
    expect(playbook.source).toMatch(/\/host\/default\/listKeys\?api-version=/);
    expect(playbook.source).toMatch(/secureData: \{\s*properties: \[\s*'inputs'\s*'outputs'/);
  });
});
