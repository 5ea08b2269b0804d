import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';

let credential: TokenCredential | undefined;

/**
 * The function app's identity (the managed identity in Azure), one per worker process and shared
 * by every function. Constructing it sends nothing: a token is only asked for by a client that
 * needs one (identity-based storage, Log Analytics, ARM write-back), so the same wiring serves
 * connection-string storage too.
 */
export function appCredential(): TokenCredential {
  credential ??= new DefaultAzureCredential();
  return credential;
}
