import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportKql } from '../../shared/detections/export.js';
import { tuningFromConfig } from '../../shared/scoring/tuning.js';
import { type Command, UsageError } from '../io.js';

export const USAGE = `usage: certsoar export --format kql --out DIR

Writes one analytics-rule query per detection to DIR (e.g. DIR/T1608.003.kql), with the
parameters of the tuning document in force (TUNING_FILE, TUNING_JSON).`;

export const run: Command = async (args, io) => {
  const options = parseArgs(args);
  if (options.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const tuning = tuningFromConfig({ TUNING_FILE: io.env['TUNING_FILE'], TUNING_JSON: io.env['TUNING_JSON'] }, { cwd: io.cwd });
  const dir = resolve(io.cwd, options.out);
  mkdirSync(dir, { recursive: true });
  for (const query of exportKql(tuning)) {
    const path = resolve(dir, query.fileName);
    writeFileSync(path, query.kql);
    io.stdout(`${query.id} → ${path}\n`);
  }
  return 0;
};

function parseArgs(args: string[]): { help: boolean; out: string } {
  let format: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true, out: '' };
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name !== '--format' && name !== '--out') throw new UsageError(`unknown argument '${arg}'`, USAGE);
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${name} needs a value`, USAGE);
    if (name === '--format') format = value;
    else out = value;
  }
  if (format === undefined) throw new UsageError('--format is required (kql)', USAGE);
  if (format !== 'kql') throw new UsageError(`unsupported format '${format}' (only kql)`, USAGE);
  if (out === undefined) throw new UsageError('--out DIR is required', USAGE);
  return { help: false, out };
}
