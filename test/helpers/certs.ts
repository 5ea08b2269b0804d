import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Certificates made at test time (never checked in): a CA, leaves signed by it, self-signed
 * leaves, expired ones, wrong names. PEM out, for node:tls servers and X509Certificate.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** Lower-case hex SHA-256 / SHA-1 of the DER. */
  sha256: string;
  sha1: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface CertOptions {
  /** e.g. "CN=www.example.test, O=Test" */
  subject: string;
  /** DNS SANs and IP SANs (IPs recognised by shape). */
  sans?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Signing CA; omitted means self-signed. */
  issuer?: TestCert;
  isCa?: boolean;
  serialNumber?: string;
}

export async function makeCert(options: CertOptions): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const notAfter = options.notAfter ?? new Date(Date.now() + 90 * DAY);
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(Boolean(options.isCa), undefined, true)];
  if (options.isCa) {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true));
  } else {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
  }
  if (options.sans && options.sans.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        options.sans.map((s) => (/^[\d.]+$|:/.test(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s })),
      ),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const serialNumber = options.serialNumber ?? randomSerial();
  const cert = options.issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: options.subject,
        issuer: options.issuer.cert.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALG,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber, name: options.subject, notBefore, notAfter, signingAlgorithm: ALG, keys, extensions });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const der = new Uint8Array(cert.rawData);
  return {
    certPem: cert.toString('pem'),
    keyPem,
    sha256: hex(await webcrypto.subtle.digest('SHA-256', der)),
    sha1: hex(await webcrypto.subtle.digest('SHA-1', der)),
    cert,
    keys,
  };
}

/** A CA plus a leaf for localhost / 127.0.0.1 / ::1, for local HTTPS servers. */
export async function makeLoopbackServerCerts(): Promise<{ ca: TestCert; server: TestCert }> {
  const ca = await makeCert({ subject: 'CN=certsoar test CA', isCa: true, notAfter: new Date(Date.now() + 30 * DAY) });
  const server = await makeCert({ subject: 'CN=localhost', sans: ['localhost', '127.0.0.1', '::1'], issuer: ca });
  return { ca, server };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(8));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return hex(bytes.buffer);
}

function hex(buf: ArrayBuffer): string {
  return Buffer.from(buf).toString('hex');
}
