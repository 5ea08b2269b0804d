import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLoopbackServerCerts } from './helpers/certs.js';

/**
 * One test CA for the whole run. Its certificate goes into NODE_EXTRA_CA_CERTS before the test
 * workers start, so the real Azure SDK clients (and axios) trust the local HTTPS servers that
 * play Log Analytics, ARM and the webhooks, with no TLS check turned off anywhere.
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'certsoar-tls-'));
  const { ca, server } = await makeLoopbackServerCerts();
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.certPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  process.env.NODE_EXTRA_CA_CERTS = join(dir, 'ca.pem');
  process.env.CERTSOAR_TEST_TLS_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
