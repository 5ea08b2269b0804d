import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Tuning } from '../../scoring/tuning.js';
import { levelFor } from '../../scoring/score.js';
import { DETECTIONS } from '../index.js';
import type { T1587003Params } from '../definitions/t1587-003.js';
import type { T1588004Params } from '../definitions/t1588-004.js';
import type { T1608003Params } from '../definitions/t1608-003.js';
import type { Detection } from '../types.js';
import { type DetectionPlan, detectionPlan, optionalList, translatedSignals } from './plan.js';

/**
 * Sigma rules, one per signal: Sigma has no arithmetic, so a weighted score over several
 * signals cannot be expressed. Each rule is the detection's base filter AND one signal; its
 * level is the level that signal's weight alone reaches under the tuning's thresholds, and
 * `certsoar_weight` carries the weight so a SIEM that correlates the rules of one event can add
 * them up. Regexes stay within Sigma's `re` subset (no \s, \b, (?:…), lookaround). Field names
 * follow the Sigma taxonomy where it has them (registry_set, process_creation, file_event);
 * the TLS fields (ssl_subject, ssl_issuer, ssl_subject_cn, ssl_sni, dst_port, action) have no
 * taxonomy and need a processing pipeline that maps them for the target SIEM.
 */

export interface SigmaRule {
  fileName: string;
  detectionId: string;
  signal: string;
  yaml: string;
}

type Selections = Record<string, Record<string, unknown>>;
interface SignalRule {
  logsource: Record<string, string>;
  selections: Selections;
  condition: string;
  cannotExpress: string;
}

/** Related SigmaHQ rules (similar logic over the same telemetry). */
const RELATED: Record<string, string[]> = {
  'T1588.004': ['d223b46b-5621-4037-88fe-fda32eead684'],
  'T1587.003': ['d2125259-ddea-4c1c-9c22-977eb5b29cf0', 'ff992eac-6449-4c60-8c1d-91c9722a1d48', '42821614-9264-4761-acfc-5772c3286f76'],
};
const TACTIC_TAG = 'attack.resource-development';
const RULE_DATE = '2026-11-29';

/** A stable UUID (name-based, SHA-1, RFC 4122 version 5 layout) for a detection's signal rule. */
function ruleId(detectionId: string, signal: string): string {
  const h = createHash('sha1').update(`certsoar/${detectionId}/${signal}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** A literal inside a Sigma `re` value: every metacharacter escaped (escaping metacharacters is the one escape the subset allows). */
const reLiteral = (text: string) => text.replace(/[\\.^$*+?{}[\]()|/-]/g, '\\$&');
const reAny = (values: readonly string[]) => `(${values.map(reLiteral).join('|')})`;
const globRe = (glob: string) => glob.split('*').map(reLiteral).join('.*');
const endsWithName = (names: readonly string[]) => names.map((n) => `\\${n}`);

// ---- T1608.003 -------------------------------------------------------------------------------

function t1608003(plan: DetectionPlan<T1608003Params>): Record<string, SignalRule> {
  const p = plan.params;
  const logsource = { category: 'firewall' };
  const base: Selections = {
    selection_port: { 'dst_port': p.tlsPorts },
    filter_action: { 'action': p.excludedActions },
    ...(p.allowedIssuers.length ? { filter_allowed_issuer: { ssl_issuer: p.allowedIssuers } } : {}),
    ...(p.allowedDestinationHosts.length ? { filter_allowed_host: { ssl_sni: p.allowedDestinationHosts } } : {}),
  };
  const filters = Object.keys(base).filter((k) => k.startsWith('filter_'));
  const placeholderParts: string[] = [];
  if (p.placeholderCnNames.length) placeholderParts.push(`^(${p.placeholderCnNames.map(globRe).join('|')})$`);
  if (p.placeholderCnWords.length) placeholderParts.push(`(^|.*[^a-z0-9])${reAny(p.placeholderCnWords)}([^a-z0-9].*|$)`);
  const condition = (signal: string) => `selection_port and ${signal}${filters.map((f) => ` and not ${f}`).join('')}`;
  const verdictRule = (name: string, values: readonly string[] | undefined): Record<string, SignalRule> =>
    values?.length
      ? {
          [name]: {
            logsource,
            selections: { ...base, selection_verdict: { ssl_validation_status: values } },
            condition: condition('selection_verdict'),
            cannotExpress: 'The verdict must already be a field (ssl_validation_status): Sigma cannot read it from a vendor message such as FortiGate\'s "certificate-status: …".',
          },
        }
      : {};
  return {
    ...verdictRule('device_untrusted', optionalList(p, 'untrustedVerdicts')),
    ...verdictRule('device_expired', optionalList(p, 'expiredVerdicts')),
    self_signed: {
      logsource,
      selections: { ...base, selection_self_signed: { 'ssl_issuer|fieldref': 'ssl_subject' }, filter_empty: { ssl_subject: '' } },
      condition: `${condition('selection_self_signed')} and not filter_empty`,
      cannotExpress: 'Sigma compares issuer and subject with fieldref (case handling is left to the backend); blank markers (n/a, -, none) are not cleaned.',
    },
    hostname_mismatch: {
      logsource,
      selections: { ...base, selection_mismatch: { 'ssl_sni|fieldref|neq': 'ssl_subject_cn' }, filter_wildcard: { 'ssl_subject_cn|startswith': '*.' }, filter_no_cn: { ssl_subject_cn: '' } },
      condition: `${condition('selection_mismatch')} and not filter_wildcard and not filter_no_cn`,
      cannotExpress:
        'Sigma cannot search a SAN list or match a wildcard name label by label: this rule compares the SNI with the subject CN exactly and skips wildcard CNs, so it misses mismatches behind a wildcard and flags certificates whose SANs (but not CN) cover the host.',
    },
    placeholder_cn: {
      logsource,
      selections: placeholderParts.length ? { ...base, selection_placeholder: { 'ssl_subject_cn|re|i': placeholderParts } } : { ...base, selection_placeholder: { ssl_subject_cn: '' } },
      condition: condition('selection_placeholder'),
      cannotExpress: 'The CN must already be a field (ssl_subject_cn): Sigma cannot extract it from the subject DN.',
    },
  };
}

// ---- T1588.004 -------------------------------------------------------------------------------

function t1588004(plan: DetectionPlan<T1588004Params>): Record<string, SignalRule> {
  const p = plan.params;
  const logsource = { category: 'registry_set', product: 'windows' };
  const hive = '(HKLM|HKEY_LOCAL_MACHINE|HKCU|HKEY_CURRENT_USER|HKU\\\\[^\\\\]+|HKEY_USERS\\\\[^\\\\]+)';
  const store = (stores: readonly string[]) => `^${hive}\\\\SOFTWARE\\\\(WOW6432Node\\\\)?(Policies\\\\)?Microsoft\\\\(SystemCertificates|EnterpriseCertificates)\\\\${reAny(stores)}(\\\\.*)?$`;
  const base: Selections = {
    selection_store: { 'TargetObject|re|i': store(p.stores) },
    filter_approved: { 'Image|endswith': endsWithName(p.approvedProcesses) },
  };
  const rule = (name: string, selection: Record<string, unknown>): SignalRule => ({
    logsource,
    selections: { ...base, [name]: selection },
    condition: `selection_store and ${name} and not filter_approved`,
    cannotExpress: 'Sigma cannot add the signal weights of one event; the allowed thumbprints list is not applied (no capture of the thumbprint from the key).',
  });
  return {
    root_store_write: rule('selection_root', { 'TargetObject|re|i': store(['Root', 'AuthRoot'].filter((s) => p.stores.includes(s as never))) }),
    intermediate_store_write: rule('selection_ca', { 'TargetObject|re|i': store(['CA']) }),
    script_host_writer: rule('selection_script_host', { 'Image|endswith': endsWithName(p.scriptHosts) }),
    user_or_policy_store: rule('selection_user_or_policy', { 'TargetObject|re|i': '^(HKCU|HKEY_CURRENT_USER|HKU|HKEY_USERS)\\\\.*|.*\\\\Policies\\\\.*|.*\\\\EnterpriseCertificates\\\\.*' }),
  };
}

// ---- T1587.003 -------------------------------------------------------------------------------

function t1587003(plan: DetectionPlan<T1587003Params>): Record<string, SignalRule> {
  const p = plan.params;
  const processes = { category: 'process_creation', product: 'windows' };
  const files = { category: 'file_event', product: 'windows' };
  const trustStore = `(cert:\\\\(localmachine|currentuser)\\\\|[-/]addstore +([-/][^ ]+ +)*["']?)${reAny(p.trustStores)}(["' \\\\].*|$)`;
  const certutilVerb = `(^|.* )[-/]${reAny(p.certutilImportVerbs)}( .*|$)`;
  const psSelections = { selection_powershell: { 'Image|endswith': endsWithName(p.powershellNames), 'CommandLine|contains': p.powershellPatterns } };
  const certutilSelections = { selection_certutil: { 'Image|endswith': endsWithName(p.certutilNames), 'CommandLine|re|i': certutilVerb } };
  const stagedFile = { selection_folder: { 'TargetFilename|contains': p.suspiciousFolders } };
  const sumNote = 'Sigma cannot add the signal weights of one event (certsoar adds trust-store and private-key points to the branch points).';
  return {
    ...t1587003Phase2(p, sumNote),
    cert_tool_execution: {
      logsource: processes,
      selections: {
        selection_tool: { 'Image|endswith': endsWithName(p.certTools) },
        selection_openssl: { 'Image|endswith': p.opensslNames.map((n) => (n.includes('.') ? `\\${n}` : `/${n}`)), 'CommandLine|contains': p.opensslPatterns },
      },
      condition: '1 of selection_*',
      cannotExpress: `${sumNote} Certificate subject and DNS names in the command line are not extracted.`,
    },
    powershell_certificate_creation: { logsource: processes, selections: psSelections, condition: 'selection_powershell', cannotExpress: sumNote },
    certutil_store_import: { logsource: processes, selections: certutilSelections, condition: 'selection_certutil', cannotExpress: sumNote },
    trust_store_target: {
      logsource: processes,
      selections: { ...psSelections, ...certutilSelections, selection_trust_store: { 'CommandLine|re|i': trustStore } },
      condition: '(selection_powershell or selection_certutil) and selection_trust_store',
      cannotExpress: sumNote,
    },
    cert_file_in_staging_folder: {
      logsource: files,
      selections: { ...stagedFile, selection_extension: { 'TargetFilename|endswith': p.certFileExtensions } },
      condition: 'selection_folder and selection_extension',
      cannotExpress: sumNote,
    },
    private_key_file: {
      logsource: files,
      selections: { ...stagedFile, selection_key_extension: { 'TargetFilename|endswith': p.privateKeyExtensions } },
      condition: 'selection_folder and selection_key_extension',
      cannotExpress: sumNote,
    },
  };
}

/** Linux/macOS trust-store installs, trust-anchor files and private keys written elsewhere, when the definition has their parameters. */
function t1587003Phase2(p: T1587003Params, sumNote: string): Record<string, SignalRule> {
  const tools = optionalList(p, 'unixTrustTools');
  const patterns = optionalList(p, 'unixTrustPatterns');
  const anchors = optionalList(p, 'trustAnchorFolders');
  const writers = optionalList(p, 'expectedKeyWriters');
  const rules: Record<string, SignalRule> = {};
  if (tools?.length && patterns?.length) {
    rules['unix_trust_store_install'] = {
      logsource: { category: 'process_creation', product: 'linux' },
      selections: { selection_tool: { 'Image|endswith': tools.map((t) => `/${t}`), 'CommandLine|contains': patterns } },
      condition: 'selection_tool',
      cannotExpress: `${sumNote} macOS (security add-trusted-cert) needs a macos logsource of its own.`,
    };
  }
  if (anchors?.length) {
    rules['trust_anchor_file'] = {
      logsource: { category: 'file_event', product: 'linux' },
      selections: { selection_anchor: { 'TargetFilename|startswith': anchors } },
      condition: 'selection_anchor',
      cannotExpress: sumNote,
    };
    if (writers) {
      rules['private_key_file_elsewhere'] = {
        logsource: { category: 'file_event' },
        selections: {
          selection_key: { 'TargetFilename|endswith': p.privateKeyExtensions },
          filter_staging: { 'TargetFilename|contains': p.suspiciousFolders },
          filter_anchor: { 'TargetFilename|startswith': anchors },
          ...(writers.length ? { filter_expected_writer: { 'Image|endswith': writers.map((w) => `\\${w}`) } } : {}),
        },
        condition: `selection_key and not filter_staging and not filter_anchor${writers.length ? ' and not filter_expected_writer' : ''}`,
        cannotExpress: `${sumNote} The expected writers are matched by image file name only.`,
      };
    }
  }
  return rules;
}

const BUILDERS: Record<string, (plan: DetectionPlan<never>) => Record<string, SignalRule>> = {
  'T1608.003': t1608003 as (plan: DetectionPlan<never>) => Record<string, SignalRule>,
  'T1588.004': t1588004 as (plan: DetectionPlan<never>) => Record<string, SignalRule>,
  'T1587.003': t1587003 as (plan: DetectionPlan<never>) => Record<string, SignalRule>,
};

function ruleYaml(plan: DetectionPlan<unknown>, signal: string, weight: number, rule: SignalRule, tuning: Tuning): string {
  const m = plan.detection.meta;
  const level = levelFor(weight, tuning).toLowerCase();
  const related = RELATED[m.id] ?? [];
  const document = {
    title: `${m.title}: ${signal.replace(/_/g, ' ')}`.slice(0, 256),
    id: ruleId(m.id, signal),
    ...(related.length ? { related: related.map((id) => ({ id, type: 'similar' })) } : {}),
    status: 'experimental',
    description:
      `certsoar ${m.id} signal "${signal}" (weight ${weight}; certsoar surfaces an event when its summed weights exceed ${plan.minScore}). ` +
      `What Sigma cannot express: ${rule.cannotExpress}`,
    references: m.references,
    author: 'certsoar',
    date: RULE_DATE,
    tags: [TACTIC_TAG, `attack.${m.technique.id.toLowerCase()}`],
    logsource: rule.logsource,
    detection: { ...rule.selections, condition: rule.condition },
    falsepositives: m.falsePositives,
    level: level === 'informational' ? 'informational' : level,
    certsoar_weight: weight,
  };
  return stringify(document, { lineWidth: 0 });
}

export function sigmaRules(tuning: Tuning, detections: readonly Detection[] = DETECTIONS): SigmaRule[] {
  return detections.flatMap((d) => {
    const build = BUILDERS[d.meta.id];
    if (!build) throw new Error(`Sigma: no rules for detection ${d.meta.id}`);
    const plan = detectionPlan<never>(d, tuning);
    const { signals, untranslated } = translatedSignals(plan, 'Sigma', build(plan));
    const gap = untranslated.length ? ` ${untranslated.join('. ')}.` : '';
    return signals.map((r) => ({
      fileName: `${d.meta.id}-${r.id.replace(/_/g, '-')}.yml`,
      detectionId: d.meta.id,
      signal: r.id,
      yaml: ruleYaml(plan, r.id, r.weight, { ...r.condition, cannotExpress: `${r.condition.cannotExpress}${gap}` }, tuning),
    }));
  });
}
