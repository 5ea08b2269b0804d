import { describe, expect, it } from 'vitest';
import { buildOnce } from '../../../functions/lib/once.js';

describe('buildOnce', () => {
  it('builds once and shares the result, including between concurrent callers', async () => {
    let builds = 0;
    const get = buildOnce(async () => ({ n: ++builds }));
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(builds).toBe(1);
  });

  it('forgets a failed build, so the next call tries again', async () => {
    let builds = 0;
    const get = buildOnce(async () => {
      builds += 1;
      if (builds === 1) throw new Error('LOG_ANALYTICS_WORKSPACE_ID: required');
      return 'ready';
    });
    await expect(get()).rejects.toThrow('required');
    expect(await get()).toBe('ready');
    expect(builds).toBe(2);
  });
});
