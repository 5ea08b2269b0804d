import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem, parseJsonNamingPosition } from '../../../shared/text/json-syntax.js';
import { loadTuning } from '../../../shared/scoring/tuning.js';

const problemOf = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonSyntaxProblem(err, text);
  }
  throw new Error('expected a syntax error');
};

describe('JSON syntax errors name the position, never the content', () => {
  it.each([
    ['{"a":}', 'syntax error at line 1, column 6'],
    ['{"secret":"abc" x}', 'syntax error at line 1, column 17'],
    ['{\n  "a": 1,\n  "b": tru\n}', 'syntax error at line 3'],
    ['[1,2', 'unexpected end of input'],
  ])('%j → %s', (text, expected) => {
    expect(problemOf(text)).toContain(expected);
  });

  it('parseJsonNamingPosition parses good JSON and throws a content-free SyntaxError for bad JSON', () => {
    expect(parseJsonNamingPosition('{"a":[1]}')).toEqual({ a: [1] });
    expect(() => parseJsonNamingPosition('{"sig":"TOPSECRET" ]')).toThrow(/^syntax error at line 1, column 20$/);
  });

  it('a malformed TUNING_JSON fails naming the setting and the position, quoting nothing of it', () => {
    const secret = '{"organisation":{"domains":["contoso.com"]},"webhook":"https://x.example/IncomingWebhook/TOPSECRET" oops}';
    let message = '';
    try {
      loadTuning({ json: secret });
    } catch (err) {
      message = `${(err as Error).message} ${JSON.stringify(err)}`;
    }
    expect(message).toContain('TUNING_JSON');
    expect(message).toMatch(/syntax error at character \d+/);
    expect(message).not.toContain('TOPSECRET');
    expect(message).not.toContain('oops');
  });
});
