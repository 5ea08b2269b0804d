import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../helpers/cli-io.js';

describe('certsoar (no command)', () => {
  it('no command: usage on stderr, exit 2', async () => {
    const io = captureIo();
    expect(await main([], io)).toBe(2);
    expect(io.err()).toMatch(/^usage: certsoar <command>/);
  });

  it('--help: usage on stdout, exit 0', async () => {
    const io = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('hunt');
    expect(io.out()).toContain('validate');
  });

  it('an unknown command names it, exit 2', async () => {
    const io = captureIo();
    expect(await main(['hnut'], io)).toBe(2);
    expect(io.err()).toContain("unknown command 'hnut'");
  });
});
