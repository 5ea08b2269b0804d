import { getDetection } from '../detections/index.js';
import type { IncidentPayload } from './incident-schema.js';

const ATTACK_ID = /^T(\d{4})(?:\.(\d{3}))?$/;

/** The ATT&CK page of a technique or sub-technique id, or undefined when the id is not one. */
export function attackUrl(techniqueId: string): string | undefined {
  const m = ATTACK_ID.exec(techniqueId);
  if (!m) return undefined;
  return m[2] ? `https://attack.mitre.org/techniques/T${m[1]}/${m[2]}/` : `https://attack.mitre.org/techniques/T${m[1]}/`;
}

/**
 * Detection metadata for delivery. Findings from POST /api/enrich with a bare observable carry a
 * detectionId that no shipped detection has; they still deliver, marked known: false.
 */
export function detectionInfo(detectionId: string): IncidentPayload['detection'] {
  let meta;
  try {
    meta = getDetection(detectionId).meta;
  } catch {
    meta = undefined;
  }
  if (meta) {
    return {
      id: meta.id,
      title: meta.title,
      known: true,
      technique: { id: meta.technique.id, name: meta.technique.name, url: meta.technique.url },
      ...(meta.tactics[0] ? { tactic: meta.tactics[0] } : {}),
      tactics: [...meta.tactics],
    };
  }
  const url = attackUrl(detectionId);
  return {
    id: detectionId,
    title: url ? `ATT&CK ${detectionId}` : `Observable enrichment (${detectionId})`,
    known: false,
    ...(url ? { technique: { id: detectionId, name: detectionId, url } } : {}),
    tactics: [],
  };
}
