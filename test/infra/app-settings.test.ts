import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_SETTINGS, SETTING_NAMES, loadConfig } from '../../shared/config.js';
import { type SyntaxNode, bodyObject, callsOf, infraDir, loadBicepFile, objectProperties, resources, stringValue } from './bicep-tree.js';

/**
 * STATE_STORAGE_CONNECTION is the one certsoar setting the deployment leaves unset on purpose: in
 * Azure the state is reached by identity through STATE_STORAGE_CONNECTION__tableServiceUri and
 * __queueServiceUri, and the Functions host would take any value of the bare name as a connection
 * string (shared keys are off on the account).
 */
const UNSET_IN_AZURE = new Set(['STATE_STORAGE_CONNECTION']);

/** The settings object of the function app's Microsoft.Web/sites/config 'appsettings' resource. */
function appSettingsObject(): SyntaxNode {
  const file = loadBicepFile(path.join(infraDir, 'modules', 'function-app-settings.bicep'));
  const config = resources(file).filter((r) => r.type.startsWith('Microsoft.Web/sites/config@'));
  expect(config).toHaveLength(1);
  const body = bodyObject(config[0]!.node);
  expect(body && stringValue(objectProperties(body).get('name')!)).toBe('appsettings');
  const properties = objectProperties(body!).get('properties');
  if (!properties) throw new Error('appsettings resource without properties');
  // properties: union({ …the settings… }, settingOverrides)
  const union = properties.type === 'object' ? undefined : callsOf(properties.parent!, 'union')[0];
  const settings = union ? union.namedChildren.find((c) => c.type === 'arguments')?.namedChildren[0] : properties;
  if (!settings || settings.type !== 'object') throw new Error('the app settings are not an object literal');
  return settings;
}

describe('function app settings', () => {
  const settings = objectProperties(appSettingsObject());
  const names = [...settings.keys()];

  it('every certsoar setting of shared/config.ts is an app setting (but the connection-string one)', () => {
    const missing = SETTING_NAMES.filter((n) => !names.includes(n) && !UNSET_IN_AZURE.has(n));
    expect(missing).toEqual([]);
    for (const n of UNSET_IN_AZURE) expect(names).not.toContain(n);
  });

  it('every app setting is in the config schema or is one of the host\'s own', () => {
    const unknown = names.filter((n) => !(SETTING_NAMES as string[]).includes(n) && !HOST_SETTINGS.includes(n));
    expect(unknown).toEqual([]);
  });

  it('storage and telemetry are reached by identity, never by key', () => {
    expect(names).toContain('AzureWebJobsStorage__accountName');
    expect(names).not.toContain('AzureWebJobsStorage');
    expect(names).toContain('STATE_STORAGE_CONNECTION__tableServiceUri');
    expect(names).toContain('STATE_STORAGE_CONNECTION__queueServiceUri');
    expect(stringValue(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')!)).toBe('Authorization=AAD');
    // Flex Consumption sets the runtime in functionAppConfig and rejects these settings.
    expect(names).not.toContain('FUNCTIONS_WORKER_RUNTIME');
    expect(names).not.toContain('FUNCTIONS_EXTENSION_VERSION');
  });

  it('the webhook URLs are Key Vault references, not values', () => {
    for (const name of ['INCIDENT_WEBHOOK_URL', 'TEAMS_WEBHOOK_URL', 'TUNING_JSON']) {
      const value = settings.get(name)!;
      expect(callsOf(value.parent!, 'keyVaultReference').length, name).toBe(1);
    }
    const file = loadBicepFile(path.join(infraDir, 'modules', 'function-app-settings.bicep'));
    expect(file.source).toContain("'@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName}/)'");
  });

  it('the literal defaults are valid settings', () => {
    const literals: Record<string, string> = {};
    for (const [name, value] of settings) {
      const literal = stringValue(value);
      if (literal !== undefined && (SETTING_NAMES as string[]).includes(name)) literals[name] = literal;
    }
    expect(Object.keys(literals).length).toBeGreaterThan(15);
    const config = loadConfig(literals);
    expect(config.TLS_PROBE_ALLOW_PRIVATE).toBe(false);
    expect(config.CRTSH_BASE_URL).toBe('https://crt.sh');
    expect(config.HUNT_OVERLAP).toBe(600_000);
  });

  it('the comparison notices a setting the schema does not know', () => {
    const withTypo = [...names, 'CRTSH_BASEURL'];
    expect(withTypo.filter((n) => !(SETTING_NAMES as string[]).includes(n) && !HOST_SETTINGS.includes(n))).toEqual(['CRTSH_BASEURL']);
  });
});
