import { CertsoarError } from '../shared/errors.js';
import { errorMessage } from '../shared/redact.js';
import { CliError, type CliIo, type Command, UsageError } from './io.js';

export const USAGE = `usage: certsoar <command> [options]   (certsoar --version)

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
  if (name === '--version' || name === '-V') {
    io.stdout(`certsoar ${await version()}\n`);
    return 0;
  }
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

/** The package version, from package.json beside cli/ (or beside dist/cli/ when built). */
export async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'certsoar' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

/**
 * The process streams. A reader that goes away (`certsoar hunt | head -1`) closes stdout: later
 * writes are dropped instead of dying on EPIPE, so the run still writes its report and cards.
 */
export function processIo(signal?: AbortSignal): CliIo {
  const closed = { stdout: false, stderr: false };
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closed[name] = true;
    });
  }
  return {
    stdout: (t) => {
      if (!closed.stdout) process.stdout.write(t);
    },
    stderr: (t) => {
      if (!closed.stderr) process.stderr.write(t);
    },
    ...(signal ? { signal } : {}),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stderr.isTTY),
  };
}
