import type { TokenCredential } from '@azure/identity';

/** Where a CLI command writes; tests pass buffers, main.ts passes the process streams. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** True when stderr is a terminal (progress bars only then). */
  interactive: boolean;
  /** Tests inject a fake; otherwise commands build DefaultAzureCredential (az login, AZURE_TOKEN_CREDENTIALS). */
  credential?: TokenCredential;
  /** Aborted on Ctrl-C: long commands finish with what they have. */
  signal?: AbortSignal;
}

/** Bad usage: exit code 2 with a short usage message. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command = (args: string[], io: CliIo) => Promise<number>;

/** A failure the user can act on: exit code 1 with this one line. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
