import type { Command } from '../io.js';

export const run: Command = async (_args, io) => {
  io.stderr('certsoar card: not built yet\n');
  return 1;
};
