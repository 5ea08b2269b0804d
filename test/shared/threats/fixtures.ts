import { hitFromRow } from '../../../shared/detections/index.js';
import { t1608003 } from '../../../shared/detections/definitions/t1608-003.js';
import type { Hit, Row } from '../../../shared/model.js';
import { DEFAULT_TUNING } from '../../../shared/scoring/tuning.js';
import { SESSION_WITHOUT_CERTIFICATE } from '../../../shared/threats/threat-key.js';
import { zeekRecords, zeekRows } from '../detections/fixtures/datasets.js';
import { zeekSslToCommonSecurityLog } from '../../../shared/detections/adapters/zeek.js';

/** The 376 real NASHUA sessions to the C2 at 192.168.0.4:8443 as T1608.003 hits. */
export function nashuaHits(): Hit[] {
  return zeekRows('NASHUA').map((row) => hitFromRow(t1608003, row, DEFAULT_TUNING)!);
}

export function scrantonHits(): Hit[] {
  return zeekRows('SCRANTON').map((row) => hitFromRow(t1608003, row, DEFAULT_TUNING)!);
}

/**
 * Resumed TLS sessions as Zeek logs them (resumed: true, no certificate chain, no subject or
 * issuer), made from real NASHUA ssl.log records moved by `shiftMs` and given a new uid and
 * client, as the T1608.003 definition marks them: a hit with the SessionWithoutCertificate
 * indicator and no certificate (the "defs" branch emits these rows; until then they are built here).
 */
export function resumedSessions(count: number, options: { shiftMs: number; client?: string; server?: { ip: string; port: number } }): Hit[] {
  const records = zeekRecords('NASHUA', 'ssl')
    .slice(0, count)
    .map((r, i) => {
      const { cert_chain_fuids: _chain, subject: _s, issuer: _i, resp_certificate_sha1: _sha1, validation_status: _v, ...rest } = r;
      return {
        ...rest,
        uid: `resumed-${options.shiftMs}-${i}`,
        ts: Number(r['ts']) + options.shiftMs / 1000,
        resumed: true,
        ...(options.client ? { id_orig_h: options.client } : {}),
        ...(options.server ? { id_resp_h: options.server.ip, id_resp_p: options.server.port, server_name: options.server.ip } : {}),
      };
    });
  return zeekSslToCommonSecurityLog(records, []).map((row) => sessionHit(row));
}

function sessionHit(row: Row): Hit {
  const time = String(row['TimeGenerated']);
  return {
    detectionId: 'T1608.003',
    key: `resumed:${String(row['ExternalID'])}`,
    time,
    row,
    signals: [],
    indicators: { [SESSION_WITHOUT_CERTIFICATE]: true },
    entities: {
      sourceIp: String(row['SourceIP']),
      destinationIp: String(row['DestinationIP']),
      destinationHost: String(row['DestinationHostName']),
      destinationPort: Number(row['DestinationPort']),
      domains: [],
    },
  };
}

export const DAY = 86_400_000;
