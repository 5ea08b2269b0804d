import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config.js';
import { ValidationError, problemsFromZod } from '../errors.js';
import { jsonSyntaxProblem } from '../text/json-syntax.js';

/**
 * The tuning document: weights, thresholds, lists and suppressions. It ships with defaults and
 * is overridden by the user (TUNING_FILE or TUNING_JSON) without a code change. Detection
 * parameters live under `detections.<id>` and are validated by each detection's own schema.
 */

const patternList = z.array(z.string().min(1)).default([]);

/**
 * A suppression matches when every field it names matches (AND); within a field any pattern
 * may match (OR). Patterns are case-insensitive globs: `*` is any run of characters.
 * IP fields take CIDR ranges or single addresses.
 */
export const suppressionRuleSchema = z.object({
  id: z.string().min(1),
  reason: z.string().min(1),
  /** Detection ids this rule applies to; empty means all. */
  detections: z.array(z.string()).default([]),
  when: z
    .object({
      issuer: patternList,
      subject: patternList,
      destinationHost: patternList,
      host: patternList,
      account: patternList,
      processName: patternList,
      parentProcessName: patternList,
      commandLine: patternList,
      filePath: patternList,
      registryKey: patternList,
      sourceIp: patternList,
      destinationIp: patternList,
      /** Only when the hit has this base signal (e.g. only the CN/host mismatch of a CDN). */
      signal: patternList,
      /** Only when the hit has no base signal outside this list. */
      onlySignals: patternList,
    })
    .partial()
    .refine((w) => Object.values(w).some((v) => Array.isArray(v) && v.length > 0), {
      message: 'a suppression needs at least one condition',
    }),
});
export type SuppressionRule = z.output<typeof suppressionRuleSchema>;

export const tuningSchema = z.object({
  version: z.literal(1).default(1),
  /** Informational < low ≤ Low < medium ≤ Medium < high ≤ High. */
  levels: z
    .object({ low: z.number().default(2), medium: z.number().default(3), high: z.number().default(5) })
    .prefault({})
    .refine((l) => l.low <= l.medium && l.medium <= l.high, { message: 'levels must satisfy low ≤ medium ≤ high' }),
  /** Per-detection parameters (weights, lists, thresholds); each detection validates its own. */
  detections: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  organisation: z
    .object({
      /** Registrable domains the organisation owns. */
      domains: z.array(z.string().min(1)).default([]),
      /** CIDR ranges the organisation serves its own certificates from. */
      addressRanges: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  enrichment: z
    .object({
      weights: z
        .object({
          recent_certificate: z.number().default(2),
          new_domain: z.number().default(2),
          absent_from_ct: z.number().default(3),
          issuance_burst: z.number().default(1),
          own_domain_outside_ranges: z.number().default(4),
          vendor_root_self_signed: z.number().default(3),
          lookalike_domain: z.number().default(3),
        })
        .prefault({}),
      recentCertificateDays: z.number().int().positive().default(7),
      newDomainDays: z.number().int().positive().default(30),
      /** Certificates issued for the registrable domain in the last 7 days that make a burst. */
      burstThreshold: z.number().int().positive().default(20),
      /** Issuer name fragments of public CAs whose certificates must be in CT. */
      publicCaIssuers: z
        .array(z.string())
        .default([
          "Let's Encrypt",
          'DigiCert',
          'Sectigo',
          'COMODO',
          'GlobalSign',
          'GoDaddy',
          'Go Daddy',
          'Entrust',
          'Amazon',
          'Google Trust Services',
          'ZeroSSL',
          'thawte',
          'GeoTrust',
          'Starfield',
          'IdenTrust',
          'Buypass',
          'SSL.com',
          'Certum',
          'Microsoft Azure',
        ]),
      /** Free ACME CAs, reported in CT history. */
      freeAcmeIssuers: z.array(z.string()).default(["Let's Encrypt", 'ZeroSSL', 'Google Trust Services', 'Buypass', 'SSL.com']),
      /** Vendors whose name in a self-signed root is a known impersonation (Storm-0501's "Microsoft IT TLS CA 5"). */
      wellKnownVendors: z
        .array(z.string())
        .default(['Microsoft', 'Google', 'Apple', 'Amazon', 'DigiCert', 'Cisco', 'VeriSign', 'Symantec', 'GlobalSign', 'Sectigo', 'Cloudflare', 'Mozilla', 'Adobe', 'Oracle']),
      /** Maximum edit distance for a lookalike of an organisation domain. */
      lookalikeMaxDistance: z.number().int().min(1).max(3).default(2),
    })
    .prefault({}),
  suppressions: z.array(suppressionRuleSchema).default(() => DEFAULT_SUPPRESSIONS),
});

export type Tuning = z.output<typeof tuningSchema>;
export type TuningInput = z.input<typeof tuningSchema>;

/** Default suppressions, one per false-positive scenario on the reference pages. */
const DEFAULT_SUPPRESSIONS: SuppressionRule[] = [
  {
    id: 'tls-inspection-appliance',
    reason: 'certificate re-signed by a TLS-inspection appliance',
    detections: ['T1608.003'],
    when: { issuer: ['*Zscaler*', '*Netskope*', '*Blue Coat*', '*BlueCoat*', '*Forward Trust*', '*Forward-Trust*', '*Fortinet*SSL*Inspection*', '*FortiGate CA*', '*Palo Alto*Decrypt*', '*Symantec*Proxy*'] },
  },
  {
    id: 'cdn-wildcard-mismatch',
    reason: 'CDN wildcard certificate that does not name the exact subdomain',
    detections: ['T1608.003'],
    when: {
      subject: ['*cloudflare*', '*cloudfront.net*', '*akamai*', '*akamaized.net*', '*edgekey.net*', '*fastly*', '*azureedge.net*', '*cdn77*'],
      onlySignals: ['hostname_mismatch'],
    },
  },
  {
    id: 'approved-cert-store-writer',
    reason: 'certificate store written by approved software deployment, browser, VPN or security tooling',
    detections: ['T1588.004'],
    when: {
      processName: [
        'msiexec.exe',
        'CcmExec.exe',
        'IntuneManagementExtension.exe',
        'omadmclient.exe',
        'gpupdate.exe',
        'GoogleUpdate.exe',
        'firefox.exe',
        'updater.exe',
        'ZSATunnel.exe',
        'ZSAService.exe',
        'nsdiag.exe',
        'stAgentSvc.exe',
        'CSFalconService.exe',
        'SentinelAgent.exe',
      ],
    },
  },
  {
    id: 'devops-pipeline',
    reason: 'ephemeral certificate made by a CI/CD runner',
    detections: ['T1587.003'],
    when: { parentProcessName: ['Runner.Worker.exe', 'Runner.Listener.exe', 'gitlab-runner.exe', 'jenkins.exe', 'java.exe', 'Agent.Worker.exe'] },
  },
  {
    id: 'observability-agent',
    reason: 'monitoring agent managing its own TLS certificates',
    detections: ['T1587.003', 'T1588.004'],
    when: { processName: ['datadog-agent*', 'agent.exe', 'elastic-agent*', 'filebeat*', 'metricbeat*'] },
  },
  {
    id: 'dev-test-host',
    reason: 'development or test host',
    detections: [],
    when: { host: ['dev-*', '*-dev', '*-dev.*', 'test-*', '*-test', '*.test', 'lab-*', '*.lab.*', 'build-*'] },
  },
  {
    // Public CAs never put domain components in an issuer DN; Active Directory Certificate Services does.
    id: 'internal-ca-issuer',
    reason: 'certificate issued by an internal (AD CS) certificate authority',
    detections: ['T1608.003'],
    when: { issuer: ['*,DC=*', '*Issuing CA*', '*Enterprise CA*', '*Internal CA*'] },
  },
  {
    id: 'internal-shared-certificate',
    reason: 'internal VPN concentrator, reverse proxy or load balancer sharing one certificate across host names',
    detections: ['T1608.003'],
    when: { destinationIp: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'], onlySignals: ['hostname_mismatch'] },
  },
  {
    id: 'pki-administration',
    reason: 'PKI administration host managing the internal certificate authority',
    detections: ['T1587.003', 'T1588.004'],
    when: { host: ['pki-*', '*-pki', '*-pki-*', '*-pki.*'] },
  },
  {
    id: 'authorised-red-team',
    reason: 'authorised penetration test or red-team exercise',
    detections: ['T1587.003', 'T1588.004', 'T1608.003'],
    when: { account: ['*redteam*', '*red-team*', '*pentest*'] },
  },
  {
    id: 'server-provisioning',
    reason: 'web server provisioning that generates a certificate on first configuration',
    detections: ['T1587.003'],
    when: { parentProcessName: ['cloud-init*', 'ansible*', 'chef-client*', 'puppet*', 'salt-minion*', 'WindowsAzureGuestAgent.exe', 'EC2Launch*', 'ec2config*'] },
  },
];

export const DEFAULT_TUNING: Tuning = tuningSchema.parse({});

/**
 * Builds the tuning in force: defaults, then a file, then inline JSON. Objects merge deeply;
 * arrays given by the user replace the defaults (so a user can empty a list).
 */
export function loadTuning(source: { file?: string | undefined; json?: string | undefined } = {}): Tuning {
  let doc: unknown = {};
  if (source.file) doc = deepMerge(doc, readJson(readFileSync(source.file, 'utf8'), `TUNING_FILE (${source.file})`));
  if (source.json) doc = deepMerge(doc, readJson(source.json, 'TUNING_JSON'));
  return parseTuning(doc);
}

/** The tuning in force for a configuration (TUNING_FILE, then TUNING_JSON, over the defaults). */
export function tuningFromConfig(config: Pick<Config, 'TUNING_FILE' | 'TUNING_JSON'>): Tuning {
  return loadTuning({ file: config.TUNING_FILE, json: config.TUNING_JSON });
}

export function parseTuning(doc: unknown): Tuning {
  const parsed = tuningSchema.safeParse(doc);
  if (!parsed.success) throw new ValidationError('invalid tuning document', problemsFromZod(parsed.error.issues, 'tuning'));
  return parsed.data;
}

function readJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // The position only: TUNING_JSON is a secret setting and V8's message quotes the text.
    throw new ValidationError('invalid tuning document', [{ path: where, message: `not JSON: ${jsonSyntaxProblem(err, text)}` }]);
  }
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
  }
  return over === undefined ? base : over;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
