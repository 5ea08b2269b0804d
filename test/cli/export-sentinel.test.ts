import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/main.js';
import { DETECTIONS } from '../../shared/detections/index.js';
import { kqlErrors } from '../../cli/kql/kql-validator.js';
import { SENTINEL_YAML_REQUIRED_KEYS } from '../../shared/detections/sentinel-yaml.js';
import { SENTINEL_TACTICS } from '../../shared/detections/sentinel-tactics.js';
import { captureIo } from '../helpers/cli-io.js';

const root = mkdtempSync(join(tmpdir(), 'certsoar-export-sentinel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('certsoar export --format sentinel', () => {
  it('writes each analytics rule in the Azure-Sentinel YAML schema with every required key', async () => {
    const io = captureIo({}, { cwd: root });
    expect(await main(['export', '--format', 'sentinel', '--out', 'yaml'], io)).toBe(0);
    const dir = join(root, 'yaml');
    const expected = [...DETECTIONS.map((d) => `certsoar-${d.meta.id}.yaml`), 'certsoar-findings.yaml'].sort();
    expect(readdirSync(dir).sort()).toEqual(expected);
    const ids = new Set<string>();
    for (const file of expected) {
      const doc = parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      for (const key of SENTINEL_YAML_REQUIRED_KEYS) expect(doc, `${file} lacks ${key}`).toHaveProperty(key);
      expect(String(doc['id'])).toMatch(GUID);
      ids.add(String(doc['id']));
      expect(['Informational', 'Low', 'Medium', 'High']).toContain(doc['severity']);
      expect(doc['triggerOperator']).toBe('gt');
      expect(String(doc['queryFrequency'])).toMatch(/^\d+[mhd]$/);
      for (const t of doc['tactics'] as string[]) expect(SENTINEL_TACTICS as readonly string[]).toContain(t);
      expect((doc['relevantTechniques'] as string[]).length).toBeGreaterThan(0);
      expect(String(doc['version'])).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(ids.size).toBe(expected.length);
  });

  it('the detection rules read one frequency window by ingestion time and their queries are valid KQL', async () => {
    const dir = join(root, 'yaml');
    for (const d of DETECTIONS) {
      const doc = parse(readFileSync(join(dir, `certsoar-${d.meta.id}.yaml`), 'utf8')) as Record<string, unknown>;
      expect(doc['kind']).toBe('Scheduled');
      expect(doc['queryFrequency']).toBe(d.meta.queryFrequency);
      expect(String(doc['query'])).toContain(`| where ingestion_time() > ago(${d.meta.queryFrequency})`);
      expect(kqlErrors(String(doc['query']))).toEqual([]);
      expect((doc['requiredDataConnectors'] as Array<{ dataTypes: string[] }>).every((c) => c.dataTypes.join() === d.meta.tables.join())).toBe(true);
      expect(doc['relevantTechniques']).toContain(d.meta.technique.id);
    }
    const findings = parse(readFileSync(join(dir, 'certsoar-findings.yaml'), 'utf8')) as Record<string, unknown>;
    expect(findings['kind']).toBe('NRT');
  });

  it('rejects an unknown format, naming both', async () => {
    const io = captureIo({});
    expect(await main(['export', '--format', 'splunk-xml', '--out', root], io)).toBe(2);
    expect(io.err()).toContain('kql, sentinel');
  });
});
