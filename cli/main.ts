import { CertsoarError } from '../shared/errors.js';
import { errorMessage } from '../shared/redact.js';
import { CliError, type CliIo, type Command, UsageError } from './io.js';

export const USAGE = `usage: certsoar <command> [options]

commands:
  hunt      run the detections (Log Analytics, --workspace DIR, or --offline), enrich, score, deliver
  enrich    enrich and score one observable: <domain|sha1|sha256|host:port>
  validate  check every detection's KQL, the settings and the tuning document
  export    write the detections out: --format kql --out DIR
  card      render a finding as an Adaptive Card: card FILE [--out DIR]

run 'certsoar <command> --help' for a command's options`;

const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  hunt: () => import('./commands/hunt.js'),
  enrich: () => import('./commands/enrich.js'),
  validate: () => import('./commands/validate.js'),
  export: () => import('./commands/export.js'),
  card: () => import('./commands/card.js'),
};

/** Runs one command; returns the exit code (0 success, 1 failure, 2 bad usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.stdout : io.stderr)(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`certsoar: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const { run } = await load();
    return await run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`certsoar ${name}: ${err.message}\n\n${err.usage}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`certsoar ${name}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof CertsoarError) {
      io.stderr(`certsoar ${name}: ${errorMessage(err)}\n`);
      return 1;
    }
    io.stderr(`certsoar ${name}: unexpected error: ${errorMessage(err)}\n`);
    return 1;
  }
}

export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stderr.isTTY),
  };
}
