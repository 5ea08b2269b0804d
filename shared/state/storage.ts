import type { TokenCredential } from '@azure/identity';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';

// The names and the message encoding live in a module without the SDKs, so registering a function
// (which needs a queue name) does not load them; re-exported here for callers that have the clients.
export { ENRICH_LEDGER_TABLE, MAX_QUEUE_MESSAGE_BYTES, QUEUE_NAMES, decodeQueueMessage, encodeQueueMessage } from './queue-encoding.js';

/**
 * Builds Table and Queue clients for certsoar's state from configuration, in one place.
 *
 * Two ways to configure STATE_STORAGE_CONNECTION (the same names the Functions host uses for its
 * queue triggers, so one setting serves both):
 * - a connection string in STATE_STORAGE_CONNECTION (`UseDevelopmentStorage=true` means Azurite on
 *   its default ports; a full Azurite string with explicit endpoints works too);
 * - identity-based: STATE_STORAGE_CONNECTION__tableServiceUri and
 *   STATE_STORAGE_CONNECTION__queueServiceUri, with a TokenCredential (managed identity in Azure).
 *
 * `storageClients(config, credential)` returns undefined when neither is configured: callers then
 * keep state in memory (the CLI) or fail with `requireStorage` (the functions).
 */
export interface StorageClients {
  /** A client for one table (not created; call ensureTable once before use). */
  table(name: string): TableClient;
  /** A client for one queue (not created; call ensureQueue once before use). */
  queue(name: string): QueueClient;
  /** 'connection-string' or 'identity', for logs (never the secret itself). */
  readonly mode: 'connection-string' | 'identity';
}


type StorageSettings = Pick<
  Config,
  'STATE_STORAGE_CONNECTION' | 'STATE_STORAGE_CONNECTION__tableServiceUri' | 'STATE_STORAGE_CONNECTION__queueServiceUri'
>;

export function storageClients(config: StorageSettings, credential?: TokenCredential): StorageClients | undefined {
  const connectionString = config.STATE_STORAGE_CONNECTION;
  if (connectionString) {
    // Azurite and other http endpoints: the SDKs refuse to send credentials over http unless told.
    const insecure = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http(;|$)|Endpoint=http:\/\//i.test(connectionString);
    return {
      mode: 'connection-string',
      table: (name) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: insecure }),
      queue: (name) => new QueueClient(connectionString, name),
    };
  }
  const tableUri = config.STATE_STORAGE_CONNECTION__tableServiceUri;
  const queueUri = config.STATE_STORAGE_CONNECTION__queueServiceUri;
  if (!tableUri && !queueUri) return undefined;
  const problems = [];
  if (!tableUri) problems.push({ path: 'STATE_STORAGE_CONNECTION__tableServiceUri', message: 'required with STATE_STORAGE_CONNECTION__queueServiceUri' });
  if (!queueUri) problems.push({ path: 'STATE_STORAGE_CONNECTION__queueServiceUri', message: 'required with STATE_STORAGE_CONNECTION__tableServiceUri' });
  if (!credential) problems.push({ path: 'STATE_STORAGE_CONNECTION', message: 'identity-based storage needs a credential' });
  if (problems.length > 0 || !tableUri || !queueUri || !credential) throw new ConfigError(problems);
  const insecure = tableUri.startsWith('http:');
  return {
    mode: 'identity',
    table: (name) => new TableClient(tableUri, name, credential, { allowInsecureConnection: insecure }),
    queue: (name) => new QueueClient(`${queueUri.replace(/\/+$/, '')}/${name}`, credential),
  };
}

/** Like storageClients, but fails naming the settings when storage is not configured (functions need it). */
export function requireStorage(config: StorageSettings, credential?: TokenCredential): StorageClients {
  const clients = storageClients(config, credential);
  if (!clients) {
    throw new ConfigError([
      { path: 'STATE_STORAGE_CONNECTION', message: 'required (a connection string, or STATE_STORAGE_CONNECTION__tableServiceUri and __queueServiceUri)' },
    ]);
  }
  return clients;
}

const ensured = new WeakSet<object>();

/** Creates the table if it does not exist (once per client object). */
export async function ensureTable(client: TableClient): Promise<TableClient> {
  if (!ensured.has(client)) {
    await client.createTable(); // the SDK treats 409 TableAlreadyExists as success
    ensured.add(client);
  }
  return client;
}

/** Creates the queue if it does not exist (once per client object). */
export async function ensureQueue(client: QueueClient): Promise<QueueClient> {
  if (!ensured.has(client)) {
    await client.createIfNotExists();
    ensured.add(client);
  }
  return client;
}

/**
 * Table keys cannot hold / \ # ? or control characters; this maps any text to a safe key
 * (base64url), so detection ids and hit keys can be used as PartitionKey/RowKey as they are.
 */
export function tableKey(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The HTTP status of an Azure SDK error (RestError), undefined for anything else. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
