import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureIo } from '../helpers/cli-io.js';

/**
 * Issue 14, "the tuning document accepts typos": through `certsoar validate` and `certsoar hunt`
 * (the same check), each document below was accepted before.
 */
const dir = mkdtempSync(join(tmpdir(), 'certsoar-tuning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ANCHOR = '2026-01-15T12:00:00Z';

async function validate(doc: unknown, env: Record<string, string> = {}) {
  const io = captureIo({ TUNING_JSON: JSON.stringify(doc), ...env });
  const code = await main(['validate'], io);
  return { code, err: io.err(), out: io.out() };
}

describe('a strict tuning document', () => {
  it.each([
    [{ organization: { domains: ['contoso.com'] } }, 'tuning: tuning.organization: unknown key; did you mean "organisation"?'],
    [{ enrichment: { weigths: { new_domain: 5 } } }, 'tuning: tuning.enrichment.weigths: unknown key; did you mean "weights"?'],
    [{ supressions: [] }, 'tuning: tuning.supressions: unknown key; did you mean "suppressions"?'],
    [{ suppressions: { add: [{ id: 'x', reason: 'y', when: { destinationIP: ['10.0.0.0/8'] } }] } }, 'did you mean "destinationIp"?'],
    [{ organisation: { addressRanges: ['10.0.0.0/33'] } }, 'tuning: tuning.organisation.addressRanges[0]: "10.0.0.0/33": the prefix length must be 0 to 32'],
    [{ suppressions: { add: [{ id: 'x', reason: 'y', when: { destinationIp: ['2001:db8::/129'] } }] } }, 'the prefix length must be 0 to 128'],
    [{ suppressions: { add: [{ id: 'x', reason: 'y', when: { sourceIp: ['not-an-ip'] } }] } }, '"not-an-ip" is not an IP address or CIDR range'],
    [{ suppressions: { add: [{ id: 'x', reason: 'y', when: { issuer: ['^Evil.*CA$'] } }] } }, 'looks like a regular expression'],
    [{ suppressions: { add: [{ id: 'x', reason: 'y', when: { host: ['@organisation.domians'] } }] } }, 'expected @organisation.buildHosts'],
  ])('validate rejects %j', async (doc, message) => {
    const r = await validate(doc);
    expect(r.code).toBe(1);
    expect(r.err).toContain(message);
  });

  it('hunt rejects what validate rejects, instead of hunting without the organisation', async () => {
    const io = captureIo({ TUNING_JSON: JSON.stringify({ organization: { domains: ['contoso.com'] } }) }, { cwd: dir });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--out', join(dir, 'out')], io)).toBe(1);
    expect(io.err()).toContain('tuning.organization: unknown key; did you mean "organisation"?');
    expect(io.out()).not.toContain('finding');
  });

  it('HUNTS_ENABLED=T1234 fails validate, as it fails hunt', async () => {
    const r = await validate({}, { HUNTS_ENABLED: 'T1234' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^config: HUNTS_ENABLED: unknown detection T1234/m);
  });

  it('a list can be extended: one custom suppression keeps the defaults, --print-effective shows them', async () => {
    const custom = { id: 'our-proxy', reason: 'our explicit proxy', when: { destinationIp: ['10.9.9.9'] } };
    const io = captureIo({ TUNING_JSON: JSON.stringify({ suppressions: { add: [custom], remove: ['dev-test-host'] } }) });
    expect(await main(['validate', '--print-effective'], io)).toBe(0);
    const effective = JSON.parse(io.out()) as { suppressions: Array<{ id: string }>; detections: Record<string, Record<string, unknown>> };
    const ids = effective.suppressions.map((s) => s.id);
    expect(ids).toContain('our-proxy');
    expect(ids).toContain('tls-inspection-appliance');
    expect(ids).toContain('approved-cert-store-writer');
    expect(ids).not.toContain('dev-test-host');
    expect(Object.keys(effective.detections).sort()).toEqual(['T1587.003', 'T1588.004', 'T1608.003']);
    expect(effective.detections['T1608.003']?.['tlsPorts']).toEqual(expect.arrayContaining([443]));
    // a plain array still replaces (so a list can be emptied)
    const replaced = captureIo({ TUNING_JSON: JSON.stringify({ suppressions: [custom] }) });
    expect(await main(['validate', '--print-effective'], replaced)).toBe(0);
    expect((JSON.parse(replaced.out()) as { suppressions: unknown[] }).suppressions).toHaveLength(1);
  });

  it("a detection's default list can be extended too", async () => {
    const io = captureIo({ TUNING_JSON: JSON.stringify({ detections: { 'T1608.003': { placeholderCnNames: { add: ['*.corp-test'], remove: ['example.com'] } } } }) });
    expect(await main(['validate', '--print-effective'], io), io.err()).toBe(0);
    const names = (JSON.parse(io.out()) as { detections: Record<string, { placeholderCnNames: string[] }> }).detections['T1608.003']!.placeholderCnNames;
    expect(names).toContain('localhost');
    expect(names).toContain('*.corp-test');
    expect(names).not.toContain('example.com');
  });

  it('a user rule that keys only on adversary-chosen text works, and validate warns about it', async () => {
    const file = join(dir, 'names-only.json');
    writeFileSync(file, JSON.stringify({ suppressions: { add: [{ id: 'by-name', reason: 'our tool', when: { processName: ['updater.exe'] } }] } }));
    const io = captureIo({ TUNING_FILE: file });
    expect(await main(['validate'], io)).toBe(0);
    expect(io.err()).toMatch(/^warning: tuning\.suppressions\[\d+\] \(by-name\): keys only on processName, text an adversary chooses/m);
    const clean = captureIo({});
    expect(await main(['validate'], clean)).toBe(0);
    expect(clean.err()).toBe('');
  });

  it('a TUNING_JSON syntax error names the position, not the content', async () => {
    const io = captureIo({ TUNING_JSON: '{"organisation": {"domains": [secret-value]}}' });
    expect(await main(['validate'], io)).toBe(1);
    expect(io.err()).toMatch(/TUNING_JSON: not JSON( \(syntax error at character \d+\))?\n/);
    expect(io.err()).not.toContain('secret-value');
  });
});
