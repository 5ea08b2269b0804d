import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeCredential } from '../../helpers/fake-credential.js';
import { loadConfig } from '../../../shared/config.js';
import { ConfigError } from '../../../shared/errors.js';
import { decodeQueueMessage, encodeQueueMessage, ensureQueue, ensureTable, requireStorage, storageClients, tableKey } from '../../../shared/state/storage.js';
import { type AzuriteInstance, startAzurite } from '../../helpers/azurite.js';

let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

const credential = fakeCredential();

describe('storageClients', () => {
  it('is undefined without any storage setting, and requireStorage names the setting', () => {
    const config = loadConfig({});
    expect(storageClients(config)).toBeUndefined();
    expect(() => requireStorage(config)).toThrow(/STATE_STORAGE_CONNECTION/);
  });

  it('builds working table and queue clients from a connection string (Azurite)', async () => {
    const clients = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: azurite.connectionString }));
    expect(clients?.mode).toBe('connection-string');
    const table = await ensureTable(clients!.table('storagetest1'));
    await ensureTable(clients!.table('storagetest1')); // second create is not an error
    await table.upsertEntity({ partitionKey: tableKey('T1608.003'), rowKey: tableKey('a/b#c?d'), value: 42 });
    const got = await table.getEntity<{ value: number }>(tableKey('T1608.003'), tableKey('a/b#c?d'));
    expect(got.value).toBe(42);

    const queue = await ensureQueue(clients!.queue('storagetest1'));
    await queue.sendMessage(encodeQueueMessage({ detectionId: 'X', key: 'k' }));
    const received = await queue.receiveMessages();
    expect(decodeQueueMessage(received.receivedMessageItems[0]!.messageText)).toEqual({ detectionId: 'X', key: 'k' });
  });

  it('builds identity-based clients from the service URIs, and fails naming what is missing', () => {
    const clients = storageClients(
      loadConfig({
        STATE_STORAGE_CONNECTION__tableServiceUri: 'https://acct.table.core.windows.net',
        STATE_STORAGE_CONNECTION__queueServiceUri: 'https://acct.queue.core.windows.net/',
      }),
      credential,
    );
    expect(clients?.mode).toBe('identity');
    expect(clients!.queue('hits').url).toBe('https://acct.queue.core.windows.net/hits');
    expect(clients!.table('watermarks').url).toMatch(/^https:\/\/acct\.table\.core\.windows\.net/);
    expect(() => storageClients(loadConfig({ STATE_STORAGE_CONNECTION__tableServiceUri: 'https://acct.table.core.windows.net' }), credential)).toThrow(ConfigError);
    expect(() =>
      storageClients(
        loadConfig({ STATE_STORAGE_CONNECTION__tableServiceUri: 'https://a.table.core.windows.net', STATE_STORAGE_CONNECTION__queueServiceUri: 'https://a.queue.core.windows.net' }),
      ),
    ).toThrow(/credential/);
  });

  it('understands UseDevelopmentStorage=true as Azurite defaults', () => {
    const clients = storageClients(loadConfig({ STATE_STORAGE_CONNECTION: 'UseDevelopmentStorage=true' }));
    expect(clients!.table('watermarks').url).toMatch(/^http:\/\/127\.0\.0\.1:10002\/devstoreaccount1/);
    expect(clients!.queue('hits').url).toMatch(/^http:\/\/127\.0\.0\.1:10001\/devstoreaccount1\/hits/);
  });

  it('table keys survive characters tables refuse', () => {
    expect(tableKey('a/b\\c#d?e')).not.toMatch(/[/\\#?]/);
  });
});
