import { describe, expect, it } from 'vitest';
import { sigmaRegexProblems } from '../../devtools/sigma/regex-subset.js';
import { sigmaRuleProblems } from '../../devtools/sigma/validate-rule.js';

const VALID = `title: Test rule
id: 5b6e2d3c-0b0e-4f41-9c1d-0e2a8f6d1a11
related:
  - id: d223b46b-5621-4037-88fe-fda32eead684
    type: similar
status: experimental
description: A rule for the validator's own test.
date: 2026-11-29
logsource:
  category: process_creation
  product: windows
detection:
  selection_img:
    Image|endswith: '\\certutil.exe'
  selection_cli:
    CommandLine|re|i: '[-/]addstore +(root|ca)'
  filter:
    ParentImage|endswith: '\\msiexec.exe'
  condition: 1 of selection_* and not filter
level: medium
tags:
  - attack.resource-development
  - attack.t1588.004
`;

describe('Sigma regex subset', () => {
  it.each(['^cn=(localhost|example\\.com)$', '[a-z0-9-]+\\.invalid', 'a{2,5}b?c*d+', '[^,/]*', '\\\\temp\\\\'])('accepts %s', (re) => {
    expect(sigmaRegexProblems(re)).toEqual([]);
  });

  it.each([
    ['\\btest\\b', 'escape \\b'],
    ['\\d+', 'escape \\d'],
    ['\\s', 'escape \\s'],
    ['(?:a|b)', '(? groups'],
    ['(?i)abc', '(? groups'],
    ['(?<name>x)', '(? groups'],
    ['a(?=b)', '(? groups'],
    ['a+?', 'lazy'],
    ['[a-z', 'unterminated'],
    ['(a|b', 'unbalanced ('],
    ['a{x}', 'quantifier'],
  ])('rejects %s', (re, message) => {
    expect(sigmaRegexProblems(re).map((p) => p.message).join('; ')).toContain(message);
  });
});

describe('Sigma rule validation', () => {
  it('accepts a rule that follows the schema, the condition grammar and the regex subset', () => {
    expect(sigmaRuleProblems(VALID)).toEqual([]);
  });

  it.each([
    ['a missing logsource', VALID.replace(/logsource:\n {2}category: process_creation\n {2}product: windows\n/, ''), 'logsource'],
    ['a related id that is not a UUID', VALID.replace('d223b46b-5621-4037-88fe-fda32eead684', 'not-a-uuid'), 'format'],
    ['an unknown related type', VALID.replace('type: similar', 'type: cousin'), 'related'],
    ['a bad tag', VALID.replace('attack.t1588.004', 'Attack T1588'), 'tags'],
    ['a bad date', VALID.replace('2026-11-29', '29/11/2026'), 'date'],
    ['a condition that does not parse', VALID.replace('1 of selection_* and not filter', '1 of selection_* and'), 'does not parse'],
    ['a condition naming an undefined identifier', VALID.replace('and not filter', 'and not filters'), '"filters"'],
    ['an identifier the condition never uses', VALID.replace('1 of selection_* and not filter', '1 of selection_*'), 'never used'],
    ['a regex outside the subset', VALID.replace("'[-/]addstore +(root|ca)'", "'\\s+addstore\\s+(?:root|ca)'"), 'subset'],
    ['an unknown modifier', VALID.replace('Image|endswith', 'Image|endwith'), 'unknown modifier'],
    ['a regex flag without re', VALID.replace('Image|endswith', 'Image|endswith|i'), 'only apply after re'],
  ])('rejects %s', (_why, text, message) => {
    expect(sigmaRuleProblems(text).join('\n')).toContain(message);
  });
});
