import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../shared/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every setting in the settings table, and no setting that does not exist', () => {
    const settingsSection = readme.slice(readme.indexOf('## Settings'));
    const documented = [...settingsSection.matchAll(/^\| `([A-Za-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('gives the two fresh-machine commands, and CI runs the README test command', () => {
    expect(readme).toContain('npx certsoar hunt --offline');
    expect(readme).toMatch(/^npm test\b/m);
    const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
  });
});
