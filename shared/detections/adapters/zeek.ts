import type { Row } from '../../model.js';

/**
 * Maps Zeek ssl.log records, joined to the x509.log record of the server's leaf certificate,
 * onto CommonSecurityLog-shaped rows, so the T1608.003 query and twin run over Zeek data as over
 * a firewall's TLS-inspection log. The certificate goes into AdditionalExtensions under the
 * generic keys ssl_subject, ssl_issuer, ssl_san, ssl_serial, ssl_sha1, ssl_not_before,
 * ssl_not_after and ssl_sni (`;`-separated, as Sentinel stores CEF extensions).
 *
 * The leaf is cert_chain_fuids[0] (x509 `id`, Zeek before 6.0) or cert_chain_fps[0] (x509
 * `fingerprint`, Zeek 6.0 and later). A session without a logged certificate still maps, with
 * the subject and issuer Zeek put on the ssl record when configured to.
 */

export type ZeekRecord = Record<string, unknown>;

/** One JSON record per line; blank lines ignored. */
export function parseZeekNdjson(text: string): ZeekRecord[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ZeekRecord);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && v !== '-' ? v : typeof v === 'number' ? String(v) : undefined);

/** Extension values cannot hold the pair separators. */
const extensionValue = (v: string) => v.replace(/[;|\r\n]+/g, ' ');

function first(list: unknown): string | undefined {
  return Array.isArray(list) && list.length > 0 ? str(list[0]) : undefined;
}

function sanDns(x509: ZeekRecord | undefined): string[] {
  const v = x509?.['san.dns'] ?? x509?.['san_dns'] ?? (x509?.['san'] as ZeekRecord | undefined)?.['dns'];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

export function zeekSslToCommonSecurityLog(ssl: readonly ZeekRecord[], x509: readonly ZeekRecord[]): Row[] {
  const byId = new Map<string, ZeekRecord>();
  for (const cert of x509) {
    const id = str(cert['id']);
    if (id) byId.set(id, cert);
    const fp = str(cert['fingerprint']);
    if (fp) byId.set(fp, cert);
  }
  return ssl.map((session) => {
    const leafRef = first(session['cert_chain_fuids']) ?? first(session['cert_chain_fps']);
    const cert = leafRef ? byId.get(leafRef) : undefined;
    const ext: Array<[string, string | undefined]> = [
      ['ssl_subject', str(cert?.['certificate_subject']) ?? str(session['subject'])],
      ['ssl_issuer', str(cert?.['certificate_issuer']) ?? str(session['issuer'])],
      ['ssl_san', sanDns(cert).join(',') || undefined],
      ['ssl_serial', str(cert?.['certificate_serial'])],
      ['ssl_sha1', str(session['resp_certificate_sha1']) ?? str(cert?.['fingerprint'])],
      ['ssl_not_before', str(cert?.['certificate_not_valid_before'])],
      ['ssl_not_after', str(cert?.['certificate_not_valid_after'])],
      ['ssl_sni', str(session['server_name'])],
      ['ssl_version', str(session['version'])],
      ['ssl_validation_status', str(session['validation_status'])],
      // A resumed session carries no certificate (Zeek ssl.log `resumed`); T1608.003 attributes it through its endpoint.
      ['ssl_resumed', session['resumed'] === true ? 'T' : undefined],
      ['ja3', str(session['ja3'])],
      ['ja3s', str(session['ja3s'])],
    ];
    const ts = typeof session['ts'] === 'number' ? session['ts'] : Number(session['ts']);
    return {
      TimeGenerated: new Date(ts * 1000).toISOString(),
      DeviceVendor: 'Zeek',
      DeviceProduct: 'Zeek',
      DeviceEventClassID: 'ssl',
      Activity: session['established'] === true ? 'TLS session established' : 'TLS session',
      Computer: str(session['@system']),
      SourceIP: str(session['id_orig_h']),
      SourcePort: Number(session['id_orig_p']),
      DestinationIP: str(session['id_resp_h']),
      DestinationPort: Number(session['id_resp_p']),
      DestinationHostName: str(session['server_name']),
      ApplicationProtocol: str(session['version']),
      ExternalID: str(session['uid']),
      AdditionalExtensions: ext
        .filter((e): e is [string, string] => e[1] !== undefined)
        .map(([k, v]) => `${k}=${extensionValue(v)}`)
        .join(';'),
    };
  });
}
