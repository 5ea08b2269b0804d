import type { CliIo } from '../../cli/io.js';

/** A CliIo that records what a command prints. */
export function captureIo(env: Record<string, string | undefined> = {}, overrides: Partial<CliIo> = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env,
    cwd: process.cwd(),
    interactive: false,
    ...overrides,
    out: () => out,
    err: () => err,
  };
}
