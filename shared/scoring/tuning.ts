import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config.js';
import { ValidationError } from '../errors.js';
import { jsonSyntaxOffset } from '../text/json-syntax.js';
import { mergeTuning } from './list-edit.js';
import { tuningProblemsFromZod, tuningValueProblems } from './tuning-check.js';

export { mergeTuning } from './list-edit.js';

/**
 * The tuning document: weights, thresholds, lists and suppressions. It ships with defaults and
 * is overridden by the user (TUNING_FILE or TUNING_JSON) without a code change. Detection
 * parameters live under `detections.<id>` and are validated by each detection's own schema.
 */

const patternList = z.array(z.string().min(1, 'an empty pattern matches nothing')).default([]);

/**
 * A suppression matches when every field it names matches (AND); within a field any pattern
 * may match (OR). Patterns are case-insensitive globs: `*` is any run of characters.
 * IP fields take CIDR ranges or single addresses. A pattern `@organisation.<list>` stands for
 * that list of the organisation section (addresses, thumbprints, accounts, hosts), so the
 * default rules key on facts the organisation states rather than on names an adversary picks.
 */
export const suppressionRuleSchema = z.strictObject({
  id: z.string().min(1),
  reason: z.string().min(1),
  /** Detection ids this rule applies to; empty means all. */
  detections: z.array(z.string()).default([]),
  when: z
    .strictObject({
      issuer: patternList,
      subject: patternList,
      destinationHost: patternList,
      /** The device the telemetry comes from (DeviceName, the client), never the destination. */
      host: patternList,
      account: patternList,
      processName: patternList,
      parentProcessName: patternList,
      /** Full path of the process image (InitiatingProcessFolderPath / FolderPath). */
      processPath: patternList,
      /** Full path of the parent image, where the table has it. */
      parentProcessPath: patternList,
      commandLine: patternList,
      filePath: patternList,
      registryKey: patternList,
      /** SHA-1 or SHA-256 of the certificate (hex, no separators). */
      certificateThumbprint: patternList,
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

export const tuningSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** Informational < low ≤ Low < medium ≤ Medium < high ≤ High. */
  levels: z
    .strictObject({ low: z.number().default(2), medium: z.number().default(3), high: z.number().default(5) })
    .prefault({})
    .refine((l) => l.low <= l.medium && l.medium <= l.high, { message: 'levels must satisfy low ≤ medium ≤ high' }),
  /** Per-detection parameters (weights, lists, thresholds); each detection validates its own. */
  detections: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  organisation: z
    .strictObject({
      /** Registrable domains the organisation owns. */
      domains: z.array(z.string().min(1)).default([]),
      /** CIDR ranges the organisation serves its own certificates from. */
      addressRanges: z.array(z.string().min(1)).default([]),
      /** Addresses (CIDR) of the organisation's TLS-inspection appliances / explicit proxies. */
      tlsInspectionAppliances: z.array(z.string().min(1)).default([]),
      /** SHA-1 or SHA-256 thumbprints of the organisation's own CA certificates. */
      internalCaThumbprints: z.array(z.string().regex(/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'expected a SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint')).default([]),
      /** Device names (globs) of CI/CD runners that make throw-away certificates. */
      buildHosts: z.array(z.string().min(1)).default([]),
      /** Accounts (globs, DOMAIN\\user) of an authorised red team or penetration test. */
      redTeamAccounts: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  enrichment: z
    .strictObject({
      weights: z
        .strictObject({
          recent_certificate: z.number().default(2),
          new_domain: z.number().default(2),
          absent_from_ct: z.number().default(3),
          issuance_burst: z.number().default(1),
          own_domain_outside_ranges: z.number().default(4),
          vendor_root_self_signed: z.number().default(3),
          lookalike_domain: z.number().default(3),
          /** The certificate a live probe was shown has expired. */
          expired_certificate: z.number().default(1),
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

/**
 * Default suppressions, one per false-positive scenario on the reference pages. Each keys on
 * something the adversary does not control (issue 11): the organisation's own addresses,
 * thumbprints, device and account names (the `@organisation.*` lists, empty until the
 * organisation fills them, and then the rule matches nothing), full image paths in folders
 * only administrators write, or signals the detection computed. None keys on an issuer,
 * subject or file name alone: "Update Issuing CA" or agent.exe in Temp is anyone's to choose.
 */
const DEFAULT_SUPPRESSIONS: SuppressionRule[] = [
  {
    id: 'tls-inspection-appliance',
    reason: 'TLS session to the organisation\'s own TLS-inspection appliance or explicit proxy, which re-signs certificates',
    detections: ['T1608.003'],
    when: { destinationIp: ['@organisation.tlsInspectionAppliances'] },
  },
  {
    id: 'internal-ca-certificate',
    reason: 'certificate of the organisation\'s own certificate authority (by thumbprint)',
    detections: ['T1588.004', 'T1608.003'],
    when: { certificateThumbprint: ['@organisation.internalCaThumbprints'] },
  },
  {
    // A public CA issues *.cloudfront.net only to the CDN; a self-signed look-alike also carries
    // the self-signed signal, which onlySignals excludes.
    id: 'cdn-wildcard-mismatch',
    reason: 'CDN wildcard certificate that does not name the exact subdomain',
    detections: ['T1608.003'],
    when: {
      subject: ['*.cloudflare.com', '*.cloudflaressl.com', '*.cloudfront.net', '*.akamaized.net', '*.akamai.net', '*.edgekey.net', '*.fastly.net', '*.azureedge.net', '*.cdn77.org'],
      onlySignals: ['hostname_mismatch'],
    },
  },
  {
    id: 'approved-cert-store-writer',
    reason: 'certificate store written by approved software deployment, browser, VPN or security tooling, from its installed path',
    detections: ['T1588.004'],
    when: {
      processPath: [
        'C:\\Windows\\System32\\msiexec.exe',
        'C:\\Windows\\SysWOW64\\msiexec.exe',
        'C:\\Windows\\CCM\\CcmExec.exe',
        'C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Microsoft.Management.Services.IntuneWindowsAgent.exe',
        'C:\\Windows\\System32\\omadmclient.exe',
        'C:\\Windows\\System32\\gpupdate.exe',
        'C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe',
        'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
        'C:\\Program Files\\Zscaler\\ZSATunnel\\ZSATunnel.exe',
        'C:\\Program Files\\Zscaler\\ZSAService\\ZSAService.exe',
        'C:\\Program Files (x86)\\Netskope\\STAgent\\stAgentSvc.exe',
        'C:\\Program Files (x86)\\Netskope\\STAgent\\nsdiag.exe',
        'C:\\Program Files\\CrowdStrike\\CSFalconService.exe',
        'C:\\Program Files\\SentinelOne\\Sentinel Agent *\\SentinelAgent.exe',
      ],
    },
  },
  {
    id: 'devops-pipeline',
    reason: 'ephemeral certificate made on a CI/CD runner the organisation lists',
    detections: ['T1587.003'],
    when: { host: ['@organisation.buildHosts'] },
  },
  {
    id: 'observability-agent',
    reason: 'monitoring agent managing its own TLS certificates, from its installed path',
    detections: ['T1587.003', 'T1588.004'],
    when: {
      processPath: [
        'C:\\Program Files\\Datadog\\Datadog Agent\\bin\\agent.exe',
        'C:\\Program Files\\Elastic\\Agent\\elastic-agent.exe',
        '/opt/datadog-agent/*',
        '/opt/Elastic/Agent/*',
        '/usr/share/filebeat/bin/filebeat',
        '/usr/share/metricbeat/bin/metricbeat',
      ],
    },
  },
  {
    id: 'dev-test-host',
    reason: 'development or test device',
    detections: [],
    when: { host: ['dev-*', '*-dev', '*-dev.*', 'test-*', '*-test', '*.test', 'lab-*', '*.lab.*', 'build-*'] },
  },
  {
    // The destination's name is the adversary's to choose (dev-portal.evil.example), so it counts
    // only on the organisation's own addresses.
    id: 'internal-dev-service',
    reason: 'internal development, test or lab service on the organisation\'s own addresses',
    detections: ['T1608.003'],
    when: { destinationHost: ['dev-*', '*-dev', '*-dev.*', 'test-*', '*-test', '*.test', 'lab-*', '*.lab.*'], destinationIp: ['@organisation.addressRanges'] },
  },
  {
    // Public CAs never put domain components in an issuer DN; AD CS does. The name alone is the
    // adversary's to choose, so it counts only on the organisation's own addresses.
    id: 'internal-ca-issuer',
    reason: 'certificate issued by an internal (AD CS) certificate authority, served from the organisation\'s own addresses',
    detections: ['T1608.003'],
    when: { issuer: ['*,DC=*', '*Issuing CA*', '*Enterprise CA*', '*Internal CA*'], destinationIp: ['@organisation.addressRanges'] },
  },
  {
    id: 'internal-shared-certificate',
    reason: 'internal VPN concentrator, reverse proxy or load balancer sharing one certificate across host names',
    detections: ['T1608.003'],
    when: { destinationIp: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'], onlySignals: ['hostname_mismatch'] },
  },
  {
    id: 'pki-administration',
    reason: 'PKI administration device managing the internal certificate authority',
    detections: ['T1587.003', 'T1588.004'],
    when: { host: ['pki-*', '*-pki', '*-pki-*', '*-pki.*'] },
  },
  {
    id: 'authorised-red-team',
    reason: 'authorised penetration test or red-team exercise (accounts the organisation lists)',
    detections: ['T1587.003', 'T1588.004', 'T1608.003'],
    when: { account: ['@organisation.redTeamAccounts'] },
  },
  {
    id: 'server-provisioning',
    reason: 'web server provisioning that generates a certificate on first configuration, from the agent\'s installed path',
    detections: ['T1587.003'],
    when: {
      parentProcessPath: [
        '/usr/bin/cloud-init',
        '/usr/bin/chef-client',
        '/opt/chef/*',
        '/opt/puppetlabs/*',
        '/usr/bin/salt-minion',
        'C:\\WindowsAzure\\*\\WindowsAzureGuestAgent.exe',
        'C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe',
        'C:\\Program Files\\Amazon\\Ec2ConfigService\\Ec2Config.exe',
      ],
    },
  },
];

export const DEFAULT_TUNING: Tuning = tuningSchema.parse({});

/**
 * Builds the tuning in force: defaults, then a file, then inline JSON. Objects merge deeply.
 * A list given as an array replaces the list below it (so a user can empty it); given as
 * `{add: [...], remove: [...]}` it edits it (suppressions are removed by id, other lists by value).
 */
export function loadTuning(source: { file?: string | undefined; json?: string | undefined } = {}): Tuning {
  let doc: unknown = DEFAULT_TUNING;
  if (source.file) doc = mergeTuning(doc, readJson(readFileSync(source.file, 'utf8'), `TUNING_FILE (${source.file})`));
  if (source.json) doc = mergeTuning(doc, readJson(source.json, 'TUNING_JSON'));
  return parseTuning(doc);
}

/** The tuning in force for a configuration (TUNING_FILE, then TUNING_JSON, over the defaults). */
export function tuningFromConfig(config: Pick<Config, 'TUNING_FILE' | 'TUNING_JSON'>): Tuning {
  return loadTuning({ file: config.TUNING_FILE, json: config.TUNING_JSON });
}

/** Validates a whole document (list edits resolved against the defaults); throws ValidationError naming every problem. */
export function parseTuning(doc: unknown): Tuning {
  const parsed = tuningSchema.safeParse(mergeTuning(DEFAULT_TUNING, doc));
  if (!parsed.success) throw new ValidationError('invalid tuning document', tuningProblemsFromZod(parsed.error.issues, tuningSchema));
  const problems = tuningValueProblems(parsed.data);
  if (problems.length > 0) throw new ValidationError('invalid tuning document', problems);
  return parsed.data;
}

function readJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    // The position only: the text may be a secret-bearing setting (issue 13), and V8's message
    // quotes it ("Unexpected token …, "…" is not valid JSON" gives no position; jsonSyntaxOffset finds it).
    const position = jsonSyntaxOffset(err, text);
    throw new ValidationError('invalid tuning document', [{ path: where, message: `not JSON${position !== undefined ? ` (syntax error at character ${position})` : ''}` }]);
  }
}
