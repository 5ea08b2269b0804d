import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * The one fake TokenCredential of the suite: hands out a fixed bearer token the loopback stand-ins
 * expect and records the scopes asked for. Never DefaultAzureCredential or a managed identity.
 */
export function fakeCredential(token = 'fake-token'): TokenCredential & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    getToken: async (scopes: string | string[]): Promise<AccessToken> => {
      calls.push(Array.isArray(scopes) ? scopes : [scopes]);
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}
