import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.js';
import { HOST_SETTINGS, SETTING_NAMES, loadConfig, requireSettings } from '../../shared/config.js';

describe('config', () => {
  it('local.settings.sample.json holds exactly the settings of the schema (plus the host’s own)', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    const sampleNames = Object.keys(sample.Values).filter((n) => !HOST_SETTINGS.includes(n)).sort();
    expect(sampleNames).toEqual([...SETTING_NAMES].sort());
  });

  it('the sample values parse', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    const config = loadConfig(sample.Values);
    expect(config.HUNT_OVERLAP).toBe(600_000);
    expect(config.TLS_PROBE_ALLOW_PRIVATE).toBe(false);
  });

  it('applies defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.LOG_ANALYTICS_ENDPOINT).toBe('https://api.loganalytics.io/v1');
    expect(config.CRTSH_BASE_URL).toBe('https://crt.sh');
    expect(config.ARM_ENDPOINT).toBe('https://management.azure.com');
    expect(config.HUNTS_ENABLED).toBe('all');
    expect(config.TLS_PROBE_ALLOW_PRIVATE).toBe(false);
  });

  it('lists every invalid setting by name in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        LOG_ANALYTICS_WORKSPACE_ID: 'not-a-guid',
        CRTSH_BASE_URL: 'ftp://crt.sh',
        CRTSH_CONCURRENCY: '99',
        TLS_PROBE_ALLOW_PRIVATE: 'maybe',
        HUNT_OVERLAP: 'ten minutes',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['CRTSH_BASE_URL', 'CRTSH_CONCURRENCY', 'HUNT_OVERLAP', 'LOG_ANALYTICS_WORKSPACE_ID', 'TLS_PROBE_ALLOW_PRIVATE']);
  });

  it('requireSettings names each missing setting and the feature', () => {
    const config = loadConfig({});
    expect(() => requireSettings(config, 'hunts', ['LOG_ANALYTICS_WORKSPACE_ID', 'STATE_STORAGE_CONNECTION'])).toThrow(
      /LOG_ANALYTICS_WORKSPACE_ID: required for hunts; STATE_STORAGE_CONNECTION: required for hunts/,
    );
  });
});
