import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BicepFile, type SyntaxNode, allBicepFiles, bodyObject, descendants, infraDir, loadBicepFile, objectProperties, propertyKey, propertyValue, resources, stringValue, topLevel } from './bicep-tree.js';

/**
 * Azure built-in role definition ids as documented in "Azure built-in roles"
 * (learn.microsoft.com/azure/role-based-access-control/built-in-roles, the per-category pages:
 * monitor, security, storage). Built-in ids are the same in every tenant.
 */
const DOCUMENTED_ROLE_IDS = {
  // built-in-roles/monitor: Log Analytics Reader
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893',
  // built-in-roles/monitor: Monitoring Metrics Publisher
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  // built-in-roles/security: Microsoft Sentinel Responder
  sentinelResponder: '3e150937-b8fe-4cfb-8069-0eaf05ecd056',
  // built-in-roles/security: Microsoft Sentinel Automation Contributor
  sentinelAutomationContributor: 'f4c81013-99ee-4d62-a7ee-b3f1f648599a',
  // built-in-roles/security: Microsoft Sentinel Reader
  sentinelReader: '8d289c81-5878-46d4-8554-54e1e3d8b5cb',
  // built-in-roles/web-and-mobile: Website Contributor (holds Microsoft.Web/sites/*, so host/listkeys)
  websiteContributor: 'de139f84-1756-47ae-9be6-808fbbe84772',
  // built-in-roles/security: Key Vault Secrets User
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  // built-in-roles/storage: Storage Blob Data Owner
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  // built-in-roles/storage: Storage Queue Data Contributor
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  // built-in-roles/storage: Storage Table Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
} as const;

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The expressions a role id argument stands for: builtInRoleIds.<name> itself, or, for a loop
 * variable, every element of the variable the loop runs over.
 */
function roleReferences(file: BicepFile, resource: SyntaxNode, roleArg: SyntaxNode): SyntaxNode[] {
  if (roleArg.type === 'member_expression') return [roleArg];
  const loop = resource.namedChildren.find((c) => c.type === 'for_statement');
  if (roleArg.type !== 'identifier' || !loop || loop.namedChildren[0]?.text !== roleArg.text) {
    throw new Error(`${file.name}: role id ${roleArg.text} is neither builtInRoleIds.<name> nor a loop over them`);
  }
  const iterable = loop.namedChildren[1];
  const variable = topLevel(file, 'variable_declaration').find((v) => v.namedChildren[0]?.text === iterable?.text);
  const array = variable?.namedChildren.find((c) => c.type === 'array');
  if (!array) throw new Error(`${file.name}: the loop over ${iterable?.text} is not over an array variable`);
  return array.namedChildren;
}

function declaredRoleIds(): Record<string, string> {
  const file = loadBicepFile(path.join(infraDir, 'modules', 'built-in-roles.bicep'));
  const variable = topLevel(file, 'variable_declaration').find((v) => v.namedChildren[0]?.text === 'builtInRoleIds');
  if (!variable) throw new Error('built-in-roles.bicep declares no builtInRoleIds');
  const object = variable.namedChildren.find((c) => c.type === 'object');
  if (!object) throw new Error('builtInRoleIds is not an object literal');
  const out: Record<string, string> = {};
  for (const [key, value] of objectProperties(object)) out[key] = stringValue(value) ?? '(not a literal)';
  return out;
}

describe('role definition ids', () => {
  it('built-in-roles.bicep holds exactly the documented built-in ids', () => {
    expect(declaredRoleIds()).toEqual(DOCUMENTED_ROLE_IDS);
  });

  it('every role assignment takes its role from builtInRoleIds, and no other GUID literal names a role', () => {
    const documented = new Set<string>(Object.values(DOCUMENTED_ROLE_IDS));
    let assignments = 0;
    for (const file of allBicepFiles()) {
      for (const resource of resources(file).filter((r) => r.type.startsWith('Microsoft.Authorization/roleAssignments@'))) {
        assignments++;
        const where = `${file.name}: ${resource.name}`;
        const body = bodyObject(resource.node);
        const properties = body ? objectProperties(body).get('properties') : undefined;
        const roleDefinitionId = properties ? objectProperties(properties).get('roleDefinitionId') : undefined;
        if (!roleDefinitionId) throw new Error(`${where} has no roleDefinitionId`);
        expect(roleDefinitionId.type, where).toBe('call_expression');
        expect(roleDefinitionId.namedChildren[0]?.text, where).toBe('subscriptionResourceId');
        const args = roleDefinitionId.namedChildren.find((c) => c.type === 'arguments')?.namedChildren ?? [];
        expect(args[0] && stringValue(args[0]), where).toBe('Microsoft.Authorization/roleDefinitions');
        const roleArg = args[1];
        if (!roleArg) throw new Error(`${where}: no role id argument`);
        for (const reference of roleReferences(file, resource.node, roleArg)) {
          expect(reference.namedChildren[0]?.text, `${where}: ${reference.text}`).toBe('builtInRoleIds');
          expect(Object.keys(DOCUMENTED_ROLE_IDS), `${where}: ${reference.text}`).toContain(reference.namedChildren[1]?.text);
        }
      }
      // No role id spelled out anywhere but built-in-roles.bicep.
      if (file.name !== 'modules/built-in-roles.bicep') {
        for (const literal of file.source.match(GUID) ?? []) expect(documented.has(literal.toLowerCase()), `${file.name}: stray role id ${literal}`).toBe(false);
      }
    }
    expect(assignments).toBeGreaterThanOrEqual(7);
  });

  it('grants the roles the issue asks for, to the identities that need them', () => {
    const files = new Map(allBicepFiles().map((f) => [f.name, f.source]));
    const access = files.get('modules/sentinel-access.bicep') ?? '';
    expect(access).toContain('builtInRoleIds.logAnalyticsReader');
    expect(access).toContain('builtInRoleIds.sentinelResponder');
    // Hunts mode: the app writes findings through the DCR; rules mode: the playbook reads incidents and the key at run time.
    expect(files.get('modules/findings-dcr.bicep')).toContain('builtInRoleIds.monitoringMetricsPublisher');
    expect(files.get('modules/sentinel-playbook-access.bicep')).toContain('builtInRoleIds.sentinelReader');
    expect(files.get('modules/sentinel-playbook.bicep')).toContain('builtInRoleIds.websiteContributor');
    const own = files.get('modules/role-assignments.bicep') ?? '';
    for (const role of ['storageBlobDataOwner', 'storageQueueDataContributor', 'storageTableDataContributor', 'keyVaultSecretsUser', 'monitoringMetricsPublisher', 'sentinelAutomationContributor']) {
      expect(own, role).toContain(`builtInRoleIds.${role}`);
    }
  });

  it('the check itself notices a wrong id', () => {
    const wrong = { ...DOCUMENTED_ROLE_IDS, sentinelResponder: '00000000-0000-0000-0000-000000000000' };
    expect(declaredRoleIds()).not.toEqual(wrong);
    // and an object key that is a quoted string reads the same as an identifier
    const root = loadBicepFile(path.join(infraDir, 'modules', 'sentinel-playbook.bicep')).root;
    const quoted = descendants(root, 'object_property').find((p) => propertyKey(p) === '$connections');
    expect(quoted && propertyValue(quoted).type).toBe('object');
  });
});
