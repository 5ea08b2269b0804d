import type { TokenCredential } from '@azure/identity';
import { errorMessage } from '../shared/redact.js';
import { type CliIo, CliError } from './io.js';

/**
 * The Azure credential for a command that talks to Azure, tried once up front: a user who is
 * not signed in gets one line saying what to run (exit 1), instead of "no findings" on stdout
 * and the credential chain's five-line error once per detection on stderr.
 */
export async function signedInCredential(io: CliIo, scope: string, purpose: string): Promise<TokenCredential> {
  const credential = io.credential ?? (await defaultCredential());
  try {
    const token = await credential.getToken(scope);
    if (!token) throw new Error('no token');
  } catch (err) {
    throw new CliError(`not signed in to Azure (${purpose}: ${firstLine(err)}); run \`az login\` (or set AZURE_TOKEN_CREDENTIALS), or hunt local data with --workspace DIR or --offline`);
  }
  return credential;
}

/** Built only on the paths that talk to Azure, so tests and the offline demo never construct it. */
async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

function firstLine(err: unknown): string {
  const name = (err as { name?: string } | undefined)?.name;
  const line = errorMessage(err).split('\n')[0]!.slice(0, 160);
  return name && name !== 'Error' ? `${name}: ${line}` : line;
}
