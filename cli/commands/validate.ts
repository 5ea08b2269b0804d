import { parseArgs } from 'node:util';
import { DETECTIONS, detectionParams } from '../../shared/detections/index.js';
import { kqlErrors } from '../../shared/detections/kql-validator.js';
import type { FieldProblem } from '../../shared/errors.js';
import { errorMessage, redact } from '../../shared/redact.js';
import type { Tuning } from '../../shared/scoring/tuning.js';
import { type Command, UsageError } from '../io.js';
import { checkSettings } from '../settings/check.js';

export const USAGE = `usage: certsoar validate [--print-effective]

Checks the settings (environment), the tuning document (TUNING_FILE, TUNING_JSON: unknown keys,
CIDR ranges, glob patterns), each detection's parameters, and every detection's KQL
(analytics-rule and hunt-window forms) with Kusto's language service against the table schemas
in shared/detections/schemas. \`certsoar hunt\` runs the same checks before it hunts.
Exit 0 when everything is clean, 1 with one line per problem. Warnings (a suppression that keys
only on text an adversary chooses) are printed but do not fail.

  --print-effective   print the tuning document in force (defaults, file and inline JSON merged,
                      every detection's parameters filled in) as JSON on stdout`;

/** A fixed window, only to produce the hunt form of each query for analysis. */
const SAMPLE_WINDOW = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T00:15:00Z') };

export const run: Command = async (args, io) => {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: { 'print-effective': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new UsageError(errorMessage(err).replace(/^Unknown option/, 'unexpected argument'), USAGE);
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const printEffective = values['print-effective'];
  const say = printEffective ? io.stderr : io.stdout;

  const check = checkSettings(io.env, io.cwd);
  const problems = check.problems.map(problemLine);
  const tuning = check.tuning;
  if (tuning) problems.push(...kqlProblems(tuning, check.problems, say));

  for (const w of check.warnings) io.stderr(`warning: ${redact(`${w.path}: ${w.message}`)}\n`);
  if (problems.length > 0) {
    for (const p of problems) io.stderr(`${redact(p)}\n`);
    return 1;
  }
  say('ok  settings and tuning document valid\n');
  if (printEffective && tuning) io.stdout(`${JSON.stringify(effectiveTuning(tuning), null, 2)}\n`);
  return 0;
};

/** One line per problem, named by where it lives: a detection's parameters, the tuning document, or a setting. */
function problemLine(p: FieldProblem): string {
  const detection = DETECTIONS.find((d) => p.path === `tuning.detections.${d.meta.id}` || p.path.startsWith(`tuning.detections.${d.meta.id}.`));
  if (detection) return `${detection.meta.id}: parameters: ${p.path}: ${p.message}`;
  if (p.path.startsWith('tuning') || p.path.startsWith('TUNING_')) return `tuning: ${p.path}: ${p.message}`;
  return `config: ${p.path}: ${p.message}`;
}

function kqlProblems(tuning: Tuning, settingsProblems: FieldProblem[], say: (t: string) => void): string[] {
  const problems: string[] = [];
  for (const d of DETECTIONS) {
    if (settingsProblems.some((p) => p.path.startsWith(`tuning.detections.${d.meta.id}`))) continue;
    const params = detectionParams(d, tuning);
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
    if (clean) say(`ok  ${d.meta.id}  ${d.meta.tables.join(', ')}: KQL valid (analytics rule and hunt window)\n`);
  }
  return problems;
}

/** The document in force, with each detection's parameters as its schema fills them. */
function effectiveTuning(tuning: Tuning): Tuning {
  return { ...tuning, detections: Object.fromEntries(DETECTIONS.map((d) => [d.meta.id, detectionParams(d, tuning)])) };
}
