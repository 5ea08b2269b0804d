import { CredentialUnavailableError, type TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../helpers/cli-io.js';

/** Issue 14: not signed in to Azure printed "no findings" and the credential error six times. */
const CHAIN_ERROR = [
  'DefaultAzureCredential failed to retrieve a token from the included credentials.',
  'Attempted credentials:',
  '\tEnvironmentCredential: EnvironmentCredential is unavailable. No underlying credential could be used.',
  '\tManagedIdentityCredential: ManagedIdentityCredential: Authentication failed.',
  '\tAzureCliCredential: Please run \'az login\' from a command prompt to authenticate before using this credential.',
].join('\n');

function notSignedIn(): TokenCredential & { calls: number } {
  const credential = {
    calls: 0,
    getToken: () => {
      credential.calls += 1;
      return Promise.reject(new CredentialUnavailableError(CHAIN_ERROR));
    },
  };
  return credential;
}

describe('certsoar hunt, not signed in to Azure', () => {
  it('one line saying what to run, exit 1, nothing on stdout, the credential tried once', async () => {
    const credential = notSignedIn();
    // The endpoint is loopback and never reached: the sign-in check comes first.
    const io = captureIo({ LOG_ANALYTICS_WORKSPACE_ID: '11111111-2222-3333-4444-555555555555', LOG_ANALYTICS_ENDPOINT: 'https://127.0.0.1:9/v1' }, { credential });
    expect(await main(['hunt', '--json'], io)).toBe(1);
    expect(io.out()).toBe('');
    const lines = io.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^certsoar hunt: not signed in to Azure \(Log Analytics: CredentialUnavailableError: DefaultAzureCredential failed to retrieve a token/);
    expect(lines[0]).toContain('run `az login`');
    expect(credential.calls).toBe(1);
  });

  it('the same for the table view', async () => {
    const io = captureIo({ LOG_ANALYTICS_WORKSPACE_ID: '11111111-2222-3333-4444-555555555555', LOG_ANALYTICS_ENDPOINT: 'https://127.0.0.1:9/v1' }, { credential: notSignedIn() });
    expect(await main(['hunt'], io)).toBe(1);
    expect(io.out()).not.toContain('no findings');
  });
});
