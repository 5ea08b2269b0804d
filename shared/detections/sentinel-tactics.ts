/**
 * ATT&CK tactics as Microsoft Sentinel names them on analytics rules and alerts (the AttackTactic
 * enum of the Microsoft.SecurityInsights alertRules API, enterprise tactics only).
 */
export const SENTINEL_TACTICS = [
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'Exfiltration',
  'CommandAndControl',
  'Impact',
] as const;

export type SentinelTactic = (typeof SENTINEL_TACTICS)[number];

const TACTIC_IDS: Record<string, SentinelTactic> = {
  TA0043: 'Reconnaissance',
  TA0042: 'ResourceDevelopment',
  TA0001: 'InitialAccess',
  TA0002: 'Execution',
  TA0003: 'Persistence',
  TA0004: 'PrivilegeEscalation',
  TA0005: 'DefenseEvasion',
  TA0006: 'CredentialAccess',
  TA0007: 'Discovery',
  TA0008: 'LateralMovement',
  TA0009: 'Collection',
  TA0010: 'Exfiltration',
  TA0011: 'CommandAndControl',
  TA0040: 'Impact',
};

/** "Resource Development", "resource-development", "TA0042" → "ResourceDevelopment". */
export function sentinelTactic(tactic: string): SentinelTactic {
  const byId = TACTIC_IDS[tactic.trim().toUpperCase()];
  if (byId) return byId;
  const name = tactic
    .split(/[^A-Za-z]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
  const known = SENTINEL_TACTICS.find((t) => t.toLowerCase() === name.toLowerCase());
  if (!known) throw new Error(`"${tactic}" is not an ATT&CK tactic Microsoft Sentinel knows`);
  return known;
}
