import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EXPORT_FORMATS, exportFiles } from '../../shared/detections/backends/export-files.js';
import { loadTuning } from '../../shared/scoring/tuning.js';
import { type Command, UsageError } from '../io.js';

const FORMATS = Object.keys(EXPORT_FORMATS);

export const USAGE = `usage: certsoar export --format ${FORMATS.join('|')} --out DIR

Writes every detection in the chosen format to DIR, with the parameters of the tuning document
in force (TUNING_FILE, TUNING_JSON):
  kql         one analytics-rule query per detection (DIR/T1608.003.kql)
  sentinel    Azure-Sentinel analytics rules (YAML)
  spl         Splunk searches, per detection and source (DIR/T1608.003-sourcetypes.spl)
  splunk-app  a Splunk app folder (DIR/certsoar_detections/: saved searches, macros, alert action)
  aql         IBM QRadar AQL with the custom event properties it reads (DIR/T1608.003.aql)
  sigma       Sigma rules, one per signal (DIR/T1608.003-self-signed.yml)`;

export const run: Command = async (args, io) => {
  const options = parseArgs(args);
  if (options.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const tuningFile = io.env['TUNING_FILE']?.trim();
  const tuning = loadTuning({
    ...(tuningFile ? { file: resolve(io.cwd, tuningFile) } : {}),
    ...(io.env['TUNING_JSON']?.trim() ? { json: io.env['TUNING_JSON'] } : {}),
  });
  const dir = resolve(io.cwd, options.out);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(exportFiles(options.format, tuning))) {
    const path = resolve(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    io.stdout(`${/^T\d{4}\.\d{3}/.exec(file)?.[0] ?? options.format} → ${path}\n`);
  }
  return 0;
};

function parseArgs(args: string[]): { help: boolean; format: string; out: string } {
  let format: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true, format: '', out: '' };
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name !== '--format' && name !== '--out') throw new UsageError(`unknown argument '${arg}'`, USAGE);
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${name} needs a value`, USAGE);
    if (name === '--format') format = value;
    else out = value;
  }
  if (format === undefined) throw new UsageError(`--format is required (${FORMATS.join(', ')})`, USAGE);
  if (!(format in EXPORT_FORMATS)) throw new UsageError(`unknown format '${format}': use one of ${FORMATS.join(', ')}`, USAGE);
  // Hook: the sentinel exporter (Azure-Sentinel analytics-rule YAML) registers itself in EXPORT_FORMATS.
  if (!EXPORT_FORMATS[format]) throw new UsageError(`format '${format}' is not available in this build`, USAGE);
  if (out === undefined) throw new UsageError('--out DIR is required', USAGE);
  return { help: false, format, out };
}
