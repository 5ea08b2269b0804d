import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { exportKql } from '../../shared/detections/export.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import { kqlErrors } from '../../shared/detections/kql-validator.js';
import { DEFAULT_TUNING, parseTuning } from '../../shared/scoring/tuning.js';
import { captureIo } from '../helpers/cli-io.js';

const root = mkdtempSync(join(tmpdir(), 'certsoar-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('certsoar export --format kql', () => {
  it('writes one analytics-rule query per detection, named by id, that Kusto accepts', async () => {
    const io = captureIo({}, { cwd: root });
    expect(await main(['export', '--format', 'kql', '--out', 'rules/kql'], io)).toBe(0);
    const out = join(root, 'rules/kql');
    expect(readdirSync(out).sort()).toEqual(['T1587.003.kql', 'T1588.004.kql', 'T1608.003.kql']);
    for (const d of DETECTIONS) {
      const kql = readFileSync(join(out, `${d.meta.id}.kql`), 'utf8');
      expect(kql.split('\n').slice(0, 2)).toEqual([`// certsoar detection ${d.meta.id}: ${d.meta.title}`, expect.stringContaining(`// Technique: ${d.meta.id} `)]);
      // One ingestion window of the rule's frequency per run, inside frequency + the delay margin.
      const frequency = d.meta.queryFrequency;
      expect(kql).toContain(`| where ingestion_time() > ago(${frequency})`);
      expect(kql).not.toContain('ago(1d)');
      expect(kqlErrors(kql)).toEqual([]);
      expect(io.out()).toContain(`${d.meta.id} → ${join(out, `${d.meta.id}.kql`)}`);
    }
  });

  it('exports the parameters of the tuning document in force', async () => {
    const io = captureIo({ TUNING_JSON: JSON.stringify({ detections: { 'T1608.003': { lookback: '7d', tlsPorts: [443] } } }) });
    const out = join(root, 'tuned');
    expect(await main(['export', `--format=kql`, `--out=${out}`], io)).toBe(0);
    const kql = readFileSync(join(out, 'T1608.003.kql'), 'utf8');
    expect(kql).toContain('let TlsPorts = dynamic([443]);');
    expect(kql).not.toContain('let TlsPorts = dynamic([443, 8443');
  });

  it('matches exportKql, which infra uses', () => {
    const exported = exportKql(DEFAULT_TUNING);
    expect(exported.map((e) => [e.id, e.fileName])).toEqual(DETECTIONS.map((d) => [d.meta.id, `${d.meta.id}.kql`]));
    expect(exported[0]?.kql).toContain('| where ingestion_time() > ago(15m)');
    expect(() => exportKql(parseTuning({ detections: { 'T1588.004': { stores: ['My'] } } }))).toThrow(/tuning\.detections\.T1588\.004\.stores/);
  });

  it('rejects bad usage with exit 2', async () => {
    for (const args of [[], ['--format', 'kql'], ['--out', root], ['--format', 'json', '--out', root], ['--format'], ['--format', 'kql', '--out', root, '--force']]) {
      const io = captureIo({});
      expect(await main(['export', ...args], io), args.join(' ')).toBe(2);
      expect(io.err()).toContain('usage: certsoar export');
    }
  });

  it('fails with exit 1 on an invalid tuning document', async () => {
    const io = captureIo({ TUNING_JSON: '{"detections": {"T1608.003": {"minScore": "high"}}}' });
    expect(await main(['export', '--format', 'kql', '--out', join(root, 'never')], io)).toBe(1);
    expect(io.err()).toContain('tuning.detections.T1608.003.minScore');
  });
});
