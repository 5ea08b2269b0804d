import type { Row } from '../../model.js';

/**
 * Maps a Sysmon process-creation event (EventID 1, in the JSON rendering of the .evtx that
 * Sigma's regression data uses) onto a DeviceProcessEvents-shaped row, so endpoint detections
 * run over Sysmon samples as over Defender telemetry.
 */

interface SysmonEvent {
  Event: {
    System: { EventID: number; Computer?: string; TimeCreated?: { '#attributes'?: { SystemTime?: string } } };
    EventData: Record<string, unknown>;
  };
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;
const str = (v: unknown) => (typeof v === 'string' && v !== '' && v !== '-' ? v : undefined);

function account(user: string | undefined): { domain?: string; name?: string } {
  if (!user) return {};
  const i = user.indexOf('\\');
  return i < 0 ? { name: user } : { domain: user.slice(0, i), name: user.slice(i + 1) };
}

function hash(hashes: string | undefined, kind: string): string | undefined {
  const m = new RegExp(`(?:^|,)${kind}=([0-9A-Fa-f]+)`).exec(hashes ?? '');
  return m?.[1]?.toLowerCase();
}

export function sysmonProcessCreateToDeviceProcessEvents(event: SysmonEvent): Row {
  const { System: system, EventData: data } = event.Event;
  if (system.EventID !== 1) throw new Error(`not a process-creation event (EventID ${system.EventID})`);
  const image = str(data['Image']) ?? '';
  const parentImage = str(data['ParentImage']) ?? '';
  const user = account(str(data['User']));
  const utc = str(data['UtcTime']);
  const time = utc ? new Date(`${utc.replace(' ', 'T')}Z`).toISOString() : system.TimeCreated?.['#attributes']?.SystemTime;
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceName: system.Computer,
    ActionType: 'ProcessCreated',
    FileName: baseName(image),
    FolderPath: image,
    ProcessCommandLine: str(data['CommandLine']),
    ProcessId: data['ProcessId'],
    SHA1: hash(str(data['Hashes']), 'SHA1'),
    SHA256: hash(str(data['Hashes']), 'SHA256'),
    AccountDomain: user.domain,
    AccountName: user.name,
    InitiatingProcessFileName: baseName(parentImage),
    InitiatingProcessFolderPath: parentImage,
    InitiatingProcessCommandLine: str(data['ParentCommandLine']),
    InitiatingProcessId: data['ParentProcessId'],
    ReportId: str(data['ProcessGuid']),
  };
}
