import { type Config, loadConfig, SETTING_NAMES } from './config.js';
import { ConfigError, type FieldProblem } from './errors.js';

/**
 * Start-up check of the settings, for the function app's module load. An invalid or unresolved
 * setting (App Service leaves a Key Vault reference it could not resolve as the literal
 * "@Microsoft.KeyVault(...)" text) is reported loudly, by name, never by value, and the app keeps
 * starting: the settings that are fine are used, the bad ones fall back to their defaults for
 * registration only, so the timers still exist and every run of a function that needs a bad
 * setting fails with the same message instead of the timers vanishing silently.
 */

export interface StartupSettings {
  config: Config;
  problems: FieldProblem[];
}

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(/i;

export function startupSettings(env: Record<string, string | undefined>, report: (message: string) => void): StartupSettings {
  const problems: FieldProblem[] = [];
  for (const name of SETTING_NAMES) {
    if (KEY_VAULT_REFERENCE.test(env[name]?.trim() ?? '')) {
      problems.push({ path: name, message: 'unresolved Key Vault reference: check the secret exists and the app identity has Key Vault Secrets User on the vault' });
    }
  }
  const usable: Record<string, string | undefined> = { ...env };
  for (const p of problems) delete usable[p.path];
  let config: Config | undefined;
  try {
    config = loadConfig(usable);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    for (const p of err.problems) delete usable[p.path];
    config = loadConfig(usable);
  }
  if (config.LOGS_INGESTION_RULE_ID && config.INCIDENT_WEBHOOK_URL) {
    // Not an error: the webhook may feed a non-Sentinel consumer. Into Sentinel it is a second incident per finding.
    report('certsoar: both the findings table (LOGS_INGESTION_RULE_ID) and INCIDENT_WEBHOOK_URL are set: if the webhook creates Sentinel incidents, every finding raises two');
  }
  if (problems.length > 0) {
    report(
      `certsoar: ${problems.length} setting(s) invalid at start-up; the functions that need them fail on every run until fixed, the others run: ` +
        problems.map((p) => `${p.path}: ${p.message}`).join('; '),
    );
  }
  return { config, problems };
}
