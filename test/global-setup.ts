import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_AZURITE_ENV, startSharedAzurite } from './helpers/azurite.js';
import { makeLoopbackServerCerts } from './helpers/certs.js';

/**
 * The local stack, started once per run and shared by every test file: one Azurite (each file
 * claims a storage account of its own in it; test/helpers/azurite.ts) and one test CA. The CA's
 * certificate goes into NODE_EXTRA_CA_CERTS before the test workers start, so the real Azure SDK clients (and axios) trust the local HTTPS servers that
 * play Log Analytics, ARM and the webhooks, with no TLS check turned off anywhere.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'certsoar-tls-'));
  const claims = mkdtempSync(join(tmpdir(), 'certsoar-azurite-'));
  const azurite = await startSharedAzurite(claims);
  process.env[SHARED_AZURITE_ENV] = JSON.stringify(azurite.shared);
  const { ca, server } = await makeLoopbackServerCerts();
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.certPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  process.env.NODE_EXTRA_CA_CERTS = join(dir, 'ca.pem');
  process.env.CERTSOAR_TEST_TLS_DIR = dir;
  return async () => {
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(claims, { recursive: true, force: true });
  };
}
