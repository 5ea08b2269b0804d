import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * A real Azurite (tables, queues, blobs) in memory on ephemeral loopback ports, one per test file.
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

export async function startAzurite(): Promise<AzuriteInstance> {
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
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ports = await waitForPorts(child);
  const blobEndpoint = `http://127.0.0.1:${ports.Blob}/${DEV_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${ports.Queue}/${DEV_ACCOUNT}`;
  const tableEndpoint = `http://127.0.0.1:${ports.Table}/${DEV_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`;
  return {
    connectionString,
    tableEndpoint,
    queueEndpoint,
    blobEndpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
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
