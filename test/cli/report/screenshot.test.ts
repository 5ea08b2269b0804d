import { describe, expect, it } from 'vitest';
import { screenshot } from '../../../cli/report/screenshot.js';

describe('screenshot', () => {
  it('says clearly when Chromium is not installed instead of failing', async () => {
    const result = await screenshot('/nonexistent/report.html', '/nonexistent/report.png', { chromium: '/nonexistent/chromium' });
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^Chromium is not installed \(\/nonexistent\/chromium not found; .*apt-get install -y chromium\)$/) });
  });
});
