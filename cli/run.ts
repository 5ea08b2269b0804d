import { main, processIo } from './main.js';

// Ctrl-C once: commands finish with what they have (a hunt writes its report); twice: quit now.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  process.stderr.write('\ncertsoar: interrupted; finishing with what was found (Ctrl-C again to quit now)\n');
  interrupt.abort();
});

process.exitCode = await main(process.argv.slice(2), processIo(interrupt.signal));
// The command has answered; work it stopped waiting for (a webhook past --deliver-timeout) must
// not hold the terminal. An unref'd timer fires only if something else still keeps Node alive.
setTimeout(() => process.exit(), 2_000).unref();
