import { describe, expect, it } from 'vitest';
import { progressBar } from '../../../cli/report/progress.js';

describe('progressBar', () => {
  it('redraws one line in place and clears it when done', () => {
    let out = '';
    const bar = progressBar((t) => (out += t), 'rows', true, 10);
    bar.update(0, 4);
    bar.update(2, 4);
    bar.update(2, 4); // unchanged: not redrawn
    bar.update(4, 4);
    bar.done();
    expect(out).toBe('\rrows [----------] 0/4\rrows [#####-----] 2/4\rrows [##########] 4/4\r\x1b[2K');
  });

  it('writes nothing when not interactive', () => {
    let out = '';
    const bar = progressBar((t) => (out += t), 'rows', false);
    bar.update(1, 2);
    bar.done();
    expect(out).toBe('');
  });
});
