import { type Config, loadConfig } from '../../shared/config.js';
import { DETECTIONS, detectionParams } from '../../shared/detections/index.js';
import { kqlErrors } from '../../shared/detections/kql-validator.js';
import { ConfigError, ValidationError } from '../../shared/errors.js';
import { errorMessage, redact } from '../../shared/redact.js';
import { DEFAULT_TUNING, type Tuning, tuningFromConfig } from '../../shared/scoring/tuning.js';
import { type Command, UsageError } from '../io.js';

export const USAGE = `usage: certsoar validate

Checks the settings (environment), the tuning document (TUNING_FILE, TUNING_JSON), each
detection's parameters, and every detection's KQL (analytics-rule and hunt-window forms)
with Kusto's language service against the table schemas in shared/detections/schemas.
Exit 0 when everything is clean, 1 with one line per problem.`;

/** A fixed window, only to produce the hunt form of each query for analysis. */
const SAMPLE_WINDOW = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T00:15:00Z') };

export const run: Command = async (args, io) => {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (args.length > 0) throw new UsageError(`unexpected argument '${args[0]}'`, USAGE);

  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.push(`config: ${p.path}: ${p.message}`);
  }
  for (const d of DETECTIONS) {
    const schedule = io.env[d.scheduleSetting]?.trim();
    if (schedule && schedule.split(/\s+/).length !== 6) {
      problems.push(`config: ${d.scheduleSetting}: expected an NCRONTAB expression with six fields (second minute hour day month weekday)`);
    }
  }

  let tuning: Tuning = DEFAULT_TUNING;
  try {
    tuning = tuningFromConfig({ TUNING_FILE: config?.TUNING_FILE ?? io.env['TUNING_FILE'], TUNING_JSON: config?.TUNING_JSON ?? io.env['TUNING_JSON'] }, { cwd: io.cwd });
  } catch (err) {
    if (err instanceof ValidationError) for (const p of err.problems) problems.push(`tuning: ${p.path}: ${p.message}`);
    else problems.push(`tuning: ${errorMessage(err)}`);
  }

  for (const d of DETECTIONS) {
    let params: Record<string, unknown>;
    try {
      params = detectionParams(d, tuning);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const p of err.problems) problems.push(`${d.meta.id}: parameters: ${p.path}: ${p.message}`);
      continue;
    }
    const forms: Array<[string, string]> = [
      ['analytics rule', d.buildQuery(params)],
      ['hunt window', d.buildQuery(params, SAMPLE_WINDOW)],
    ];
    let clean = true;
    for (const [form, query] of forms) {
      for (const e of kqlErrors(query)) {
        clean = false;
        problems.push(`${d.meta.id}: KQL (${form}) line ${e.line} column ${e.column}: ${e.code} ${e.message}`);
      }
    }
    if (clean) io.stdout(`ok  ${d.meta.id}  ${d.meta.tables.join(', ')}: KQL valid (analytics rule and hunt window)\n`);
  }
  const knownIds = new Set(DETECTIONS.map((d) => d.meta.id));
  for (const id of Object.keys(tuning.detections)) {
    if (!knownIds.has(id)) problems.push(`tuning: detections.${id}: no such detection (known: ${[...knownIds].join(', ')})`);
  }

  if (problems.length > 0) {
    for (const p of problems) io.stderr(`${redact(p)}\n`);
    return 1;
  }
  io.stdout('ok  settings and tuning document valid\n');
  return 0;
};
