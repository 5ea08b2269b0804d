/**
 * A one-line progress bar on stderr, redrawn in place. Only for terminals (io.interactive):
 * anywhere else it stays silent so logs and pipes get clean output.
 */
export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(write: (text: string) => void, label: string, enabled: boolean, width = 30): Progress {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  let last = '';
  let drawn = false;
  return {
    update(done, total) {
      const ratio = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(ratio * width);
      const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
      if (line === last) return;
      last = line;
      drawn = true;
      write(`\r${line}`);
    },
    done() {
      if (drawn) write('\r\x1b[2K');
      drawn = false;
      last = '';
    },
  };
}
