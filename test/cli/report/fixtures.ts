import type { Finding } from '../../../shared/model.js';
import { withThreatFields } from '../../../shared/threats/finding-fields.js';

/** Three findings: a live High, a live Low whose text needs escaping, a suppressed Medium. */
export function reportFindings(): Finding[] {
  const base = {
    enrichment: { missing: [], enrichedAt: '2026-01-15T12:00:00.000Z' },
    scoredAt: '2026-01-15T12:00:00.000Z',
  };
  const findings = [
    {
      ...base,
      id: 'low-1',
      score: 2,
      level: 'Low',
      reasons: [{ id: 'hostname_mismatch', points: 2, reason: 'CN <script>alert(1)</script> does not cover "a&b"' }],
      hit: {
        detectionId: 'T1608.003',
        key: 'k1',
        time: '2026-01-15T10:00:00.000Z',
        row: {},
        signals: [],
        indicators: {},
        entities: { host: 'ws-01', destinationHost: 'a.example.net', domains: [] },
      },
      enrichment: { missing: [{ source: 'crtsh', reason: 'crt.sh unavailable: HTTP 503', retryable: true }], enrichedAt: '2026-01-15T12:00:00.000Z' },
    },
    {
      ...base,
      id: 'high-1',
      score: 7,
      level: 'High',
      reasons: [
        { id: 'self_signed', points: 3, reason: 'issuer equals subject' },
        { id: 'placeholder_cn', points: 2, reason: 'placeholder' },
        { id: 'hostname_mismatch', points: 2, reason: 'mismatch' },
      ],
      hit: {
        detectionId: 'T1608.003',
        key: 'k2',
        time: '2026-01-15T09:00:00.000Z',
        row: {},
        signals: [],
        indicators: {},
        entities: { sourceIp: '10.0.0.5', destinationIp: '198.51.100.7', domains: [] },
      },
    },
    {
      ...base,
      id: 'sup-1',
      score: 3,
      level: 'Medium',
      reasons: [{ id: 'root_store_write', points: 3, reason: 'root' }],
      suppressedBy: { rule: 'approved-cert-store-writer', reason: 'approved deployment tooling' },
      hit: {
        detectionId: 'T1588.004',
        key: 'k3',
        time: '2026-01-15T08:00:00.000Z',
        row: {},
        signals: [],
        indicators: {},
        entities: { host: 'ws-02', processName: 'msiexec.exe', domains: [] },
        certificate: { sha1: '4a7c1e9f3b5d2a8c6e0f1b3d5a7c9e1f2b4d6a8c' },
      },
    },
  ] as Array<Omit<Finding, 'threatId' | 'threatKey' | 'occurrences' | 'firstSeen' | 'lastSeen' | 'sources'>>;
  // As a finding saved before threats existed is read: a threat of one row.
  return findings.map((f) => withThreatFields(f as Finding));
}
