import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportKql } from '../../shared/detections/export.js';
import { exportSentinelYaml } from '../../shared/detections/sentinel-yaml.js';
import { loadTuning } from '../../shared/scoring/tuning.js';
import { type Command, UsageError } from '../io.js';

export const USAGE = `usage: certsoar export --format kql|sentinel --out DIR

kql: one analytics-rule query per detection to DIR (e.g. DIR/T1608.003.kql).
sentinel: one analytics rule per detection plus the findings rule, in the Azure-Sentinel
repository's YAML schema (e.g. DIR/certsoar-T1608.003.yaml).
Both with the parameters of the tuning document in force (TUNING_FILE, TUNING_JSON).`;

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
  const files = options.format === 'sentinel' ? exportSentinelYaml(tuning).map((f) => ({ id: f.key, fileName: f.fileName, text: f.yaml })) : exportKql(tuning).map((q) => ({ id: q.id, fileName: q.fileName, text: q.kql }));
  for (const file of files) {
    const path = resolve(dir, file.fileName);
    writeFileSync(path, file.text);
    io.stdout(`${file.id} → ${path}\n`);
  }
  return 0;
};

function parseArgs(args: string[]): { help: boolean; out: string; format: 'kql' | 'sentinel' } {
  let format: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true, out: '', format: 'kql' };
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name !== '--format' && name !== '--out') throw new UsageError(`unknown argument '${arg}'`, USAGE);
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${name} needs a value`, USAGE);
    if (name === '--format') format = value;
    else out = value;
  }
  if (format === undefined) throw new UsageError('--format is required (kql, sentinel)', USAGE);
  if (format !== 'kql' && format !== 'sentinel') throw new UsageError(`unsupported format '${format}' (kql, sentinel)`, USAGE);
  if (out === undefined) throw new UsageError('--out DIR is required', USAGE);
  return { help: false, out, format };
}
