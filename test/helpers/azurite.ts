import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * A real Azurite (tables, queues, blobs) in memory on ephemeral loopback ports. One Azurite serves
 * the whole run (test/global-setup.ts starts it); each test file that calls startAzurite() gets a
 * storage account of its own in it, so files never see each other's queues and tables. Outside
 * the suite (bench, a file run with no global setup) startAzurite() starts a private one.
 * Azure SDK clients need `allowInsecureConnection: true` (Azurite speaks http here).
 */
export interface AzuriteInstance {
  /** Full connection string with explicit endpoints (what STATE_STORAGE_CONNECTION would hold). */
  connectionString: string;
  tableEndpoint: string;
  queueEndpoint: string;
  blobEndpoint: string;
  stop(): Promise<void>;
}

/** Azurite's published development account (public, documented; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** What the global setup publishes (in CERTSOAR_TEST_AZURITE) about the run's shared Azurite. */
export interface SharedAzurite {
  ports: Record<'Blob' | 'Queue' | 'Table', number>;
  accounts: string[];
  /** A folder where each test file claims its account (mkdir is atomic across the worker processes). */
  claims: string;
}

export const SHARED_AZURITE_ENV = 'CERTSOAR_TEST_AZURITE';
/** Accounts the shared Azurite serves: more than the test files that use storage. */
const SHARED_ACCOUNTS = Array.from({ length: 64 }, (_, i) => `certsoar${String(i + 1).padStart(2, '0')}`);

export async function startAzurite(): Promise<AzuriteInstance> {
  const published = process.env[SHARED_AZURITE_ENV];
  const shared = published ? claimAccount(JSON.parse(published) as SharedAzurite) : undefined;
  return shared ?? (await spawnAzurite()).instance;
}

/** An account of the run's Azurite no other test file has; undefined when all are taken. */
function claimAccount(shared: SharedAzurite): AzuriteInstance | undefined {
  for (const account of shared.accounts) {
    try {
      mkdirSync(join(shared.claims, account));
    } catch {
      continue;
    }
    // Never handed back: a later file must not meet this one's queues and tables.
    return instanceFor(shared.ports, account, async () => undefined);
  }
  return undefined;
}

/** Starts the run's Azurite with its accounts (test/global-setup.ts). */
export async function startSharedAzurite(claims: string): Promise<{ shared: SharedAzurite; stop(): Promise<void> }> {
  const accounts = SHARED_ACCOUNTS;
  const { ports, instance } = await spawnAzurite(accounts);
  return { shared: { ports, accounts, claims }, stop: instance.stop };
}

function instanceFor(ports: Record<'Blob' | 'Queue' | 'Table', number>, account: string, stop: () => Promise<void>): AzuriteInstance {
  const blobEndpoint = `http://127.0.0.1:${ports.Blob}/${account}`;
  const queueEndpoint = `http://127.0.0.1:${ports.Queue}/${account}`;
  const tableEndpoint = `http://127.0.0.1:${ports.Table}/${account}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`;
  return { connectionString, tableEndpoint, queueEndpoint, blobEndpoint, stop };
}

/** A new Azurite process: the development account only, or the given accounts (all with DEV_KEY). */
async function spawnAzurite(accounts?: string[]): Promise<{ ports: Record<'Blob' | 'Queue' | 'Table', number>; instance: AzuriteInstance }> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const args = [
    entry,
    '--inMemoryPersistence',
    '--silent',
    '--skipApiVersionCheck',
    '--disableProductStyleUrl',
    '--disableTelemetry',
    '--blobHost', '127.0.0.1', '--blobPort', '0',
    '--queueHost', '127.0.0.1', '--queuePort', '0',
    '--tableHost', '127.0.0.1', '--tablePort', '0',
  ];
  // AZURITE_ACCOUNTS (Azurite's documented format "name:key;name:key") replaces the development account.
  const env = accounts ? { ...process.env, AZURITE_ACCOUNTS: accounts.map((a) => `${a}:${DEV_KEY}`).join(';') } : process.env;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const ports = await waitForPorts(child);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { ports, instance: instanceFor(ports, accounts?.[0] ?? DEV_ACCOUNT, stop) };
}

function waitForPorts(child: ChildProcess): Promise<Record<'Blob' | 'Queue' | 'Table', number>> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<'Blob' | 'Queue' | 'Table', number>> = {};
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) {
        found[m[1] as 'Blob' | 'Queue' | 'Table'] = Number(m[2]);
      }
      if (found.Blob && found.Queue && found.Table) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(found as Record<'Blob' | 'Queue' | 'Table', number>);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
}
