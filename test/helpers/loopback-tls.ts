import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The loopback server certificate made by test/global-setup.ts; its CA is in NODE_EXTRA_CA_CERTS,
 * so clients in the test process trust it without any verification switched off.
 */
export function loopbackTls(): { cert: string; key: string; ca: string } {
  const dir = process.env.CERTSOAR_TEST_TLS_DIR;
  if (!dir) throw new Error('CERTSOAR_TEST_TLS_DIR is not set: run the tests through vitest (test/global-setup.ts)');
  return {
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server-key.pem'), 'utf8'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
  };
}
