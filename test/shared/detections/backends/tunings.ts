import { DEFAULT_TUNING, parseTuning, type Tuning } from '../../../../shared/scoring/tuning.js';

/** The default tuning and one that moves every parameter kind the backends read. */
export const TUNED: Tuning = parseTuning({
  levels: { low: 1, medium: 4, high: 6 },
  detections: {
    'T1608.003': {
      tlsPorts: [443, 9443],
      subjectKeys: ['PanOSCommonName', 'x_cert_subject'],
      sniKeys: ['PanOSServerNameIndication', 'x_sni'],
      excludedActions: ['deny', 'drop'],
      placeholderCnNames: ['localhost', '*.lab.invalid'],
      placeholderCnWords: ['test'],
      weights: { self_signed: 4, hostname_mismatch: 1, placeholder_cn: 2 },
      minScore: 2,
      allowedIssuers: ['Corp Issuing CA'],
      allowedDestinationHosts: ['intranet.example.org'],
    },
    'T1588.004': {
      stores: ['Root', 'CA', 'TrustedPublisher'],
      approvedProcesses: ['svchost.exe', 'ccmexec.exe'],
      allowedThumbprints: ['0123456789abcdef0123456789abcdef01234567'],
      weights: { root_store_write: 4 },
      minScore: 2,
    },
    'T1587.003': {
      certTools: ['makecert.exe', 'keytool.exe'],
      suspiciousFolders: ['\\Temp\\', '/tmp/', "\\O'Brien\\"],
      weights: { private_key_file: 2 },
    },
  },
});

export const TUNINGS: Array<[string, Tuning]> = [
  ['default', DEFAULT_TUNING],
  ['tuned', TUNED],
];
