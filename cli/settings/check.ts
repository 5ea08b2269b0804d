import { isAbsolute, resolve } from 'node:path';
import { type Config, loadConfig } from '../../shared/config.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import { ConfigError, type FieldProblem, ValidationError } from '../../shared/errors.js';
import { enabledDetections, scheduleFor } from '../../shared/hunting/schedule.js';
import { errorMessage } from '../../shared/redact.js';
import { closest, tuningProblemsFromZod, tuningWarnings } from '../../shared/scoring/tuning-check.js';
import { mergeTuning } from '../../shared/scoring/list-edit.js';
import { loadTuning, type Tuning } from '../../shared/scoring/tuning.js';

/**
 * The one check of every setting that `certsoar validate` and `certsoar hunt` share: the
 * settings (zod schema, HUNTS_ENABLED, hunt schedules), the tuning document (TUNING_FILE then
 * TUNING_JSON: unknown keys, CIDRs, globs, references) and every detection's parameters.
 * Warnings (suppressions an adversary could trigger) never fail a run.
 */
export interface SettingsCheck {
  config?: Config;
  tuning?: Tuning;
  problems: FieldProblem[];
  warnings: FieldProblem[];
}

export function checkSettings(env: Record<string, string | undefined>, cwd: string, options: { defaultTuningFile?: string } = {}): SettingsCheck {
  const problems: FieldProblem[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  // Checked from the raw environment too, so a bad schedule is reported beside a bad workspace id.
  problems.push(...scheduleProblems(config ?? ({ ...env, HUNTS_ENABLED: env['HUNTS_ENABLED'] ?? 'all' } as unknown as Config)));

  const tuningFile = (config?.TUNING_FILE ?? env['TUNING_FILE'])?.trim() || options.defaultTuningFile;
  const tuningJson = (config?.TUNING_JSON ?? env['TUNING_JSON'])?.trim();
  let tuning: Tuning | undefined;
  try {
    tuning = loadTuning({ ...(tuningFile ? { file: isAbsolute(tuningFile) ? tuningFile : resolve(cwd, tuningFile) } : {}), ...(tuningJson ? { json: tuningJson } : {}) });
  } catch (err) {
    if (err instanceof ValidationError) problems.push(...err.problems);
    else problems.push({ path: 'TUNING_FILE', message: errorMessage(err) });
  }
  if (tuning) problems.push(...detectionParamProblems(tuning));
  return { ...(config ? { config } : {}), ...(tuning ? { tuning } : {}), problems, warnings: tuning ? tuningWarnings(tuning) : [] };
}

/** The settings and tuning a run needs, or a ConfigError listing every problem. */
export function validSettings(check: SettingsCheck): { config: Config; tuning: Tuning } {
  if (check.problems.length > 0 || !check.config || !check.tuning) throw new ConfigError(check.problems);
  return { config: check.config, tuning: check.tuning };
}

function scheduleProblems(config: Config): FieldProblem[] {
  const problems: FieldProblem[] = [];
  try {
    enabledDetections(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  for (const d of DETECTIONS) {
    try {
      scheduleFor(d, config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  return problems;
}

function detectionParamProblems(tuning: Tuning): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const ids = DETECTIONS.map((d) => d.meta.id);
  for (const id of Object.keys(tuning.detections)) {
    if (ids.includes(id)) continue;
    const suggestion = closest(id, ids);
    problems.push({ path: `tuning.detections.${id}`, message: `no such detection${suggestion ? `; did you mean "${suggestion}"?` : ''} (known: ${ids.join(', ')})` });
  }
  for (const d of DETECTIONS) {
    const parsed = d.paramsSchema.safeParse(mergeTuning(d.paramsSchema.parse({}), tuning.detections[d.meta.id] ?? {}));
    if (!parsed.success) problems.push(...tuningProblemsFromZod(parsed.error.issues, d.paramsSchema, `tuning.detections.${d.meta.id}`));
  }
  return problems;
}
