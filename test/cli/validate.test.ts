import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../helpers/cli-io.js';

const dir = mkdtempSync(join(tmpdir(), 'certsoar-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('certsoar validate', () => {
  it('exits 0 and reports each detection clean with the defaults', async () => {
    const io = captureIo({});
    expect(await main(['validate'], io)).toBe(0);
    expect(io.err()).toBe('');
    for (const id of ['T1608.003', 'T1588.004', 'T1587.003']) expect(io.out()).toContain(`ok  ${id}`);
  });

  it('accepts a valid tuning file with detection overrides', async () => {
    const file = join(dir, 'tuning.json');
    writeFileSync(file, JSON.stringify({ detections: { 'T1608.003': { tlsPorts: [443, 9443], allowedIssuers: ["O'Reilly \"CA\""] } } }));
    const io = captureIo({ TUNING_FILE: 'tuning.json' }, { cwd: dir });
    expect(await main(['validate'], io)).toBe(0);
  });

  it('exits 1 with one line per problem: settings, tuning, detection parameters', async () => {
    const io = captureIo({
      LOG_ANALYTICS_WORKSPACE_ID: 'not-a-guid',
      CRTSH_BASE_URL: 'ftp://crt.sh',
      HUNT_SCHEDULE_T1588_004: '*/5 * * * *',
      TUNING_JSON: JSON.stringify({ levels: { low: 9, medium: 3 }, detections: { 'T1587.003': { weights: { cert_tool_execution: 'two' } }, 'T1608.003': { lookback: 'forever' }, 'T0000.000': {} } }),
    });
    expect(await main(['validate'], io)).toBe(1);
    const lines = io.err().trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^config: LOG_ANALYTICS_WORKSPACE_ID: /),
      expect.stringMatching(/^config: CRTSH_BASE_URL: /),
      expect.stringMatching(/^config: HUNT_SCHEDULE_T1588_004: .*not an NCRONTAB expression with six fields/),
      expect.stringMatching(/^tuning: tuning\.levels/),
    ]);
  });

  it('reports bad detection parameters and unknown detections in the tuning document', async () => {
    const io = captureIo({
      TUNING_JSON: JSON.stringify({ detections: { 'T1587.003': { weights: { cert_tool_execution: 'two' } }, 'T1608.003': { lookback: 'forever', tlsPort: [1] }, 'T0000.000': {} } }),
    });
    expect(await main(['validate'], io)).toBe(1);
    const lines = io.err().trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^T1608\.003: parameters: tuning\.detections\.T1608\.003\.lookback: /));
    expect(lines).toContainEqual('T1608.003: parameters: tuning.detections.T1608.003.tlsPort: unknown key; did you mean "tlsPorts"?');
    expect(lines).toContainEqual(expect.stringMatching(/^T1587\.003: parameters: tuning\.detections\.T1587\.003\.weights\.cert_tool_execution: /));
    expect(lines).toContainEqual('tuning: tuning.detections.T0000.000: no such detection (known: T1608.003, T1588.004, T1587.003)');
    expect(io.out()).toContain('ok  T1588.004');
  });

  it('reports a tuning file that is missing or not JSON', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    const io = captureIo({ TUNING_FILE: bad });
    expect(await main(['validate'], io)).toBe(1);
    expect(io.err()).toMatch(/^tuning: TUNING_FILE \(.*bad\.json\): not JSON/);
    const missing = captureIo({ TUNING_FILE: join(dir, 'missing.json') });
    expect(await main(['validate'], missing)).toBe(1);
    expect(missing.err()).toMatch(/^tuning: .*ENOENT/);
  });

  it('answers --help with 0 and bad usage with 2', async () => {
    const help = captureIo({});
    expect(await main(['validate', '--help'], help)).toBe(0);
    expect(help.out()).toContain('usage: certsoar validate');
    const bad = captureIo({});
    expect(await main(['validate', '--strict'], bad)).toBe(2);
    expect(bad.err()).toContain("unexpected argument '--strict'");
  });
});
