import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grammars } from '../../devtools/grammars/parsers.js';
import { sigmaRuleProblems } from '../../devtools/sigma/validate-rule.js';
import { main } from '../../cli/main.js';
import { splSearches } from '../../shared/detections/backends/spl.js';
import { exportKql } from '../../shared/detections/export.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import { kqlErrors } from '../../cli/kql/kql-validator.js';
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
      expect(kql.split('\n')[0]).toBe(`// certsoar ${d.meta.id}, rules mode: each run reads the rows ingested in the last ${d.meta.queryFrequency} (margin 1h).`);
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

describe('certsoar export --format spl|splunk-app|aql|sigma', () => {
  const formats = ['spl', 'splunk-app', 'aql', 'sigma'] as const;

  /** Every file under dir, path relative to dir → text. */
  function files(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) {
        const path = join(entry.parentPath, entry.name);
        out.set(path.slice(dir.length + 1), readFileSync(path, 'utf8'));
      }
    }
    return out;
  }

  async function exportTo(format: string, out: string, env: Record<string, string> = {}): Promise<Map<string, string>> {
    const io = captureIo(env);
    expect(await main(['export', '--format', format, '--out', out], io), io.err()).toBe(0);
    return files(out);
  }

  /** The text each grammar/schema checks, per written file. */
  function checked(format: string, name: string, text: string): boolean {
    if (format === 'spl') return grammars().spl.parse(text).ok;
    if (format === 'aql') return grammars().aql.parse(text).ok;
    if (format === 'sigma') return sigmaRuleProblems(text).length === 0;
    if (!name.endsWith('savedsearches.conf')) return true;
    const searches = [...text.replace(/ \\\n/g, '\n').matchAll(/^search = ([\s\S]*?)\nenableSched = 1$/gm)].map((m) => m[1] as string);
    return searches.length === splSearches(DEFAULT_TUNING).length && searches.length >= 12 && searches.every((search) => grammars().spl.parse(search).ok);
  }

  for (const format of formats) {
    it(`writes ${format} for all three detections, each file valid, with default and tuned parameters`, async () => {
      for (const [label, env] of [['default', {}], ['tuned', { TUNING_JSON: JSON.stringify({ detections: { 'T1608.003': { tlsPorts: [443, 9443], minScore: 2 } } }) }]] as const) {
        const written = await exportTo(format, join(root, `${format}-${label}`), env);
        const all = format === 'splunk-app' ? (written.get('certsoar_detections/default/savedsearches.conf') ?? '') : [...written.keys()].join('\n');
        for (const d of DETECTIONS) expect(all, `${format}: ${d.meta.id}`).toContain(d.meta.id);
        for (const [name, text] of written) expect(checked(format, name, text), `${format}/${name}`).toBe(true);
      }
    });
  }

  it('adding a TLS port in the tuning document changes every T1608.003 output', async () => {
    const tuned = { TUNING_JSON: JSON.stringify({ detections: { 'T1608.003': { tlsPorts: [443, 8443, 4443, 10443, 9443] } } }) };
    for (const format of formats) {
      const before = await exportTo(format, join(root, `port-before-${format}`));
      const after = await exportTo(format, join(root, `port-after-${format}`), tuned);
      const tlsFiles = [...after.keys()].filter((name) => name.includes('T1608.003') || name.endsWith('savedsearches.conf'));
      expect(tlsFiles.length, format).toBeGreaterThan(0);
      for (const name of tlsFiles) {
        expect(after.get(name), `${format}/${name}`).not.toBe(before.get(name));
        expect(after.get(name), `${format}/${name}`).toContain('9443');
      }
    }
  });

  it('exits 2 on an unknown format, listing every format', async () => {
    const io = captureIo({});
    expect(await main(['export', '--format', 'elastic', '--out', root], io)).toBe(2);
    expect(io.err()).toContain("unknown format 'elastic': use one of kql, sentinel, spl, splunk-app, aql, sigma");
  });
});
