import { describe, expect, it } from 'vitest';
import { registerHunts, startupCheck } from '../../functions/hunt.js';
import { startupSettings } from '../../shared/startup-settings.js';

/** An unresolved or invalid setting is reported loudly at start-up; the module still loads and the timers still exist. */
describe('start-up settings', () => {
  const SECRET_REF = '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/incident-webhook-url/)';

  it('names an unresolved Key Vault reference and an invalid setting, never their values, and keeps the rest', () => {
    const messages: string[] = [];
    const { config, problems } = startupSettings({ INCIDENT_WEBHOOK_URL: SECRET_REF, HUNT_OVERLAP: 'soon', CRTSH_CONTACT: 'soc@example.org' }, (m) => messages.push(m));
    expect(problems.map((p) => p.path).sort()).toEqual(['HUNT_OVERLAP', 'INCIDENT_WEBHOOK_URL']);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('unresolved Key Vault reference');
    expect(messages[0]).not.toContain('kv-x.vault');
    expect(config.CRTSH_CONTACT).toBe('soc@example.org');
    expect(config.INCIDENT_WEBHOOK_URL).toBeUndefined();
  });

  it('warns when the findings table and the incident webhook are both configured', () => {
    const messages: string[] = [];
    startupSettings({ LOGS_INGESTION_RULE_ID: 'dcr-00112233445566778899aabbccddeeff', LOGS_INGESTION_ENDPOINT: 'https://dcr.example', INCIDENT_WEBHOOK_URL: 'https://hook.example/x?sig=secret' }, (m) => messages.push(m));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('raises two');
    expect(messages[0]).not.toContain('secret');
    const quiet: string[] = [];
    startupSettings({ LOGS_INGESTION_RULE_ID: 'dcr-00112233445566778899aabbccddeeff' }, (m) => quiet.push(m));
    expect(quiet).toEqual([]);
  });

  it('registers the timers despite a bad setting, reported right after, and none in rules mode', async () => {
    const messages: string[] = [];
    const timers = registerHunts({ INCIDENT_WEBHOOK_URL: SECRET_REF, LOG_ANALYTICS_WORKSPACE_ID: 'not-a-guid' }, (m) => messages.push(m));
    expect(timers).toEqual(['hunt-T1608-003', 'hunt-T1588-004', 'hunt-T1587-003']);
    await startupCheck;
    expect(messages.join('\n')).toContain('LOG_ANALYTICS_WORKSPACE_ID');
    expect(messages.join('\n')).toContain('INCIDENT_WEBHOOK_URL: unresolved Key Vault reference');
    const rules: string[] = [];
    expect(registerHunts({ DETECTION_MODE: 'rules' }, (m) => rules.push(m))).toEqual([]);
    expect(rules.join('\n')).toContain('DETECTION_MODE=rules');
  });

  it('a bad schedule leaves only that timer out, and a bad HUNTS_ENABLED all of them, naming the setting', async () => {
    const messages: string[] = [];
    expect(registerHunts({ HUNT_SCHEDULE_T1588_004: 'hourly' }, (m) => messages.push(m))).toEqual(['hunt-T1608-003', 'hunt-T1587-003']);
    expect(messages.join('\n')).toContain('HUNT_SCHEDULE_T1588_004');
    const none: string[] = [];
    expect(registerHunts({ HUNTS_ENABLED: 'T1234' }, (m) => none.push(m))).toEqual([]);
    await startupCheck;
    expect(none.join('\n')).toContain('HUNTS_ENABLED');
  });
});
