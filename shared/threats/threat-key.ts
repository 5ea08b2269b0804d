import { createHash } from 'node:crypto';
import type { Hit } from '../model.js';

/**
 * What makes two hits the same threat, per detection:
 * - T1608.003 (a suspicious certificate on a TLS endpoint): the destination endpoint (IP:port, and
 *   the SNI/host where one is known) and the certificate (fingerprint, else subject/issuer/serial);
 * - T1588.004 (a trust-store write): the device and the certificate thumbprint (else the key written);
 * - T1587.003 (certificate tooling): the device, the detection branch and the command line or file;
 * - anything else (an ad-hoc observable): the hit itself.
 *
 * A T1608.003 session that carries no certificate (a resumed TLS session, or a vendor that logs the
 * certificate on the first session only) has no threat of its own: it is keyed by its endpoint and
 * attributed to the threat of that endpoint (shared/threats/group-hits.ts).
 */

export const INSTALL_CERTIFICATE = 'T1608.003';
export const OBTAIN_CERTIFICATE = 'T1588.004';
export const DEVELOP_CERTIFICATE = 'T1587.003';

/** The indicator the T1608.003 definition sets on a session row that has no certificate fields. */
export const SESSION_WITHOUT_CERTIFICATE = 'SessionWithoutCertificate';

export interface ThreatIdentity {
  /** The threat's key in words; equal keys are one threat. */
  key: string;
  /** T1608.003 only: "ip:port", what certificate-less sessions are attributed by. */
  endpoint?: string;
  /** T1608.003 only: the SNI/host the client asked for, when it is a name and not the IP. */
  serverName?: string;
}

const norm = (v: string | number | undefined | null): string => (v === undefined || v === null ? '' : String(v).trim().toLowerCase());

/** IP:port of a TLS hit ("?" for a part the row did not have). */
export function endpointOf(hit: Hit): string {
  const e = hit.entities;
  return `${norm(e.destinationIp) || '?'}:${e.destinationPort ?? '?'}`;
}

/** The host name the client asked for, when it is a name (not the destination IP itself). */
export function serverNameOf(hit: Hit): string | undefined {
  const host = norm(hit.entities.destinationHost);
  if (!host || host === norm(hit.entities.destinationIp)) return undefined;
  return host;
}

/**
 * True for a T1608.003 session that carries no certificate of its own: the definition marks it
 * (SessionWithoutCertificate), or the hit has no certificate field and no signal of its own. A hit
 * without certificate fields that does have signals stays a threat of its own, keyed by endpoint.
 */
export function isSessionWithoutCertificate(hit: Hit): boolean {
  if (hit.detectionId !== INSTALL_CERTIFICATE) return false;
  if (hit.indicators[SESSION_WITHOUT_CERTIFICATE] === true) return true;
  return !hasCertificateIdentity(hit) && !hit.signals.some((s) => s.points > 0);
}

function hasCertificateIdentity(hit: Hit): boolean {
  const c = hit.certificate;
  return Boolean(c?.sha256 || c?.sha1 || c?.subject || c?.issuer || c?.subjectCommonName || c?.serialNumber);
}

/** The certificate's identity: its fingerprint, else what names it (subject, issuer, serial). */
function certificateIdentity(hit: Hit): string {
  const c = hit.certificate ?? {};
  if (c.sha256) return `sha256 ${norm(c.sha256)}`;
  if (c.sha1) return `sha1 ${norm(c.sha1)}`;
  if (!hasCertificateIdentity(hit)) return 'no certificate';
  return [`subject ${norm(c.subject ?? c.subjectCommonName)}`, `issuer ${norm(c.issuer ?? c.issuerCommonName)}`, c.serialNumber ? `serial ${norm(c.serialNumber)}` : '']
    .filter(Boolean)
    .join(' ');
}

function deviceOf(hit: Hit): string {
  const row = hit.row;
  const id = typeof row['DeviceId'] === 'string' ? row['DeviceId'] : undefined;
  return norm(hit.entities.host) || norm(id) || '?';
}

/** Keys longer than this keep their start and a hash of the whole (a 10,000-character command line stays one key, not a 10 KB one). */
export const MAX_THREAT_KEY_CHARS = 512;

function bounded(key: string): string {
  if (key.length <= MAX_THREAT_KEY_CHARS) return key;
  return `${key.slice(0, MAX_THREAT_KEY_CHARS - 80)}… sha256 ${createHash('sha256').update(key).digest('hex')}`;
}

export function threatIdentity(hit: Hit): ThreatIdentity {
  const identity = identityOf(hit);
  return { ...identity, key: bounded(identity.key) };
}

function identityOf(hit: Hit): ThreatIdentity {
  switch (hit.detectionId) {
    case INSTALL_CERTIFICATE: {
      const endpoint = endpointOf(hit);
      const serverName = serverNameOf(hit);
      const where = serverName ? `${endpoint} (${serverName})` : endpoint;
      return { key: `${hit.detectionId} ${where} ${certificateIdentity(hit)}`, endpoint, ...(serverName ? { serverName } : {}) };
    }
    case OBTAIN_CERTIFICATE: {
      const thumbprint = norm(hit.certificate?.sha1);
      const what = thumbprint ? `thumbprint ${thumbprint}` : `key ${norm(hit.entities.registryKey)}`;
      return { key: `${hit.detectionId} device ${deviceOf(hit)} ${what}` };
    }
    case DEVELOP_CERTIFICATE: {
      const branch = norm(hit.indicators['DetectionBranch'] as string | undefined) || '?';
      // A file branch is about the file written; a process branch about the command that ran.
      const what = hit.entities.filePath
        ? `file ${norm(hit.entities.filePath)}`
        : hit.entities.commandLine
          ? `command ${norm(hit.entities.commandLine)}`
          : `process ${norm(hit.entities.processName)}`;
      return { key: `${hit.detectionId} device ${deviceOf(hit)} ${branch} ${what}` };
    }
    default:
      return { key: `${hit.detectionId} hit ${hit.key}` };
  }
}

/**
 * Where a row came from inside the organisation: the internal host (name, else the client IP)
 * and the account, for the threat's distinct sources.
 */
export function sourcesOf(hit: Hit): { host?: string; account?: string } {
  const e = hit.entities;
  const host = e.host ?? e.sourceIp;
  return { ...(host ? { host } : {}), ...(e.account ? { account: e.account } : {}) };
}
