import type { TokenCredential } from '@azure/identity';

let credential: Promise<TokenCredential> | undefined;

/**
 * The function app's identity (the managed identity in Azure), one per worker process and shared
 * by every function. Constructing it sends nothing: a token is only asked for by a client that
 * needs one (identity-based storage, Log Analytics, ARM write-back), so the same wiring serves
 * connection-string storage too. @azure/identity is loaded here, on first use, not when the app
 * starts (a function that never needs it never loads it).
 */
export function appCredential(): Promise<TokenCredential> {
  credential ??= import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
  return credential;
}
