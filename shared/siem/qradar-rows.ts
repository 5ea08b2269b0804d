import type { Row } from '../model.js';

/**
 * QRadar answers → the rows the detections' evaluator reads. The exported AQL returns QRadar's own
 * fields (sourceip, devicetime …) and the custom event properties it documents ("TLS Subject",
 * Sysmon's "Image", "TargetObject" …); each detection's table is rebuilt from them so one
 * evaluator scores every SIEM:
 * - T1608.003 → CommonSecurityLog, the subject and issuer in DeviceCustomString3/4 with the labels
 *   CEF gives them (the definition reads a "…subject…"/"…issuer…" label), the SNI as the host, the
 *   device's verdict on the chain as the FortiGate message form "certificate-status: <verdict>";
 * - T1588.004 → DeviceRegistryEvents from Sysmon event 13 (TargetObject is key + value name);
 * - T1587.003 → DeviceProcessEvents from Sysmon event 1, DeviceFileEvents from event 11.
 * What QRadar does not carry (SANs, hashes, parent process) stays absent, as the AQL export says.
 */

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const baseName = (path: string | undefined) => path?.split(/[\\/]/).pop();

/** 'yyyy-MM-dd HH:mm:ss' (the AQL's DATEFORMAT of devicetime, UTC) or epoch ms → ISO-8601. */
function isoTime(event: Row): string | undefined {
  const formatted = text(event.EventTime);
  if (formatted) {
    const d = new Date(`${formatted.replace(' ', 'T')}Z`);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  }
  const epoch = Number(event.starttime);
  return Number.isFinite(epoch) && epoch > 0 ? new Date(epoch).toISOString() : undefined;
}

function account(user: string | undefined): { AccountDomain?: string; AccountName?: string } {
  if (!user) return {};
  const i = user.indexOf('\\');
  return i < 0 ? { AccountName: user } : { AccountDomain: user.slice(0, i), AccountName: user.slice(i + 1) };
}

function compact(row: Record<string, unknown>): Row {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));
}

function tlsRow(e: Row): Row {
  // The device's verdict, in the form the definition reads from a FortiGate/CEF message.
  const verdict = text(e['TLS Verdict']) ?? text(e['TLS Certificate Status']);
  return compact({
    Message: verdict ? `certificate-status: ${verdict}` : undefined,
    TimeGenerated: isoTime(e),
    DeviceVendor: text(e.LogSource),
    DeviceAction: text(e['Device Action']),
    SourceIP: text(e.sourceip),
    DestinationIP: text(e.destinationip),
    DestinationPort: e.destinationport,
    DestinationHostName: text(e['TLS SNI']),
    DeviceCustomString3: text(e['TLS Subject']),
    DeviceCustomString3Label: text(e['TLS Subject']) ? 'TLS certificate subject' : undefined,
    DeviceCustomString4: text(e['TLS Issuer']),
    DeviceCustomString4Label: text(e['TLS Issuer']) ? 'TLS certificate issuer' : undefined,
    SourceUserName: text(e.username),
  });
}

function registryRow(e: Row): Row {
  const target = text(e.TargetObject) ?? '';
  const cut = target.lastIndexOf('\\');
  const image = text(e.Image);
  return compact({
    TimeGenerated: isoTime(e),
    ActionType: 'RegistryValueSet',
    RegistryKey: cut > 0 ? target.slice(0, cut) : target,
    RegistryValueName: cut > 0 ? target.slice(cut + 1) : undefined,
    InitiatingProcessFileName: baseName(image),
    InitiatingProcessFolderPath: image,
    ...Object.fromEntries(Object.entries(account(text(e.username))).map(([k, v]) => [`InitiatingProcess${k}`, v])),
  });
}

function endpointRow(e: Row): Row {
  const image = text(e.Image);
  if (String(e.EventID) === '11') {
    const file = text(e.TargetFilename);
    return compact({
      TimeGenerated: isoTime(e),
      ActionType: 'FileCreated',
      FileName: baseName(file),
      FolderPath: file,
      InitiatingProcessFileName: baseName(image),
      InitiatingProcessFolderPath: image,
      ...Object.fromEntries(Object.entries(account(text(e.username))).map(([k, v]) => [`InitiatingProcess${k}`, v])),
    });
  }
  return compact({
    TimeGenerated: isoTime(e),
    ActionType: 'ProcessCreated',
    FileName: baseName(image),
    FolderPath: image,
    ProcessCommandLine: text(e.CommandLine),
    ...account(text(e.username)),
  });
}

const BY_DETECTION: Record<string, (event: Row) => Row> = {
  'T1608.003': tlsRow,
  'T1588.004': registryRow,
  'T1587.003': endpointRow,
};

export function rowFromQradarEvent(detectionId: string, event: Row): Row {
  const map = BY_DETECTION[detectionId];
  if (!map) throw new Error(`QRadar: no row mapping for detection ${detectionId}`);
  return map(event);
}
