import type { X509Certificate } from 'node:crypto';

/**
 * Self-signed means the certificate's signature verifies with its own public key; names are not
 * compared (a forged issuer DN that copies a real CA's name must not pass, and a self-signed
 * leaf without keyCertSign still counts).
 */
export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/** node:crypto gives DNs one attribute per line; cards and matching want "C=x, O=y, CN=z" like crt.sh. */
export function oneLineDn(dn: string): string {
  return dn
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(', ');
}
