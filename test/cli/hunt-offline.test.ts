import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM, VirtualConsole } from 'jsdom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { type CrtshReplay, startCrtshReplay } from '../../cli/offline/crtsh-replay.js';
import type { Finding, Level } from '../../shared/model.js';

/**
 * The offline demo end to end: bundled samples → detections' twins → the real enricher against
 * the in-process crt.sh replay → scorer → cards → report. The expectations below are the
 * scenario facts written down in samples/README.md, not recorded output.
 */

const ANCHOR = '2026-01-15T12:00:00Z';
const datasets = fileURLToPath(new URL('../datasets/', import.meta.url));
const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

function captureIo(cwd: string, env: Record<string, string | undefined> = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    env,
    cwd,
    interactive: false,
  };
  return io;
}

function parseNdjson(text: string): Finding[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Finding);
}

interface Expected {
  detection: string;
  /** What identifies the scenario's finding: the hit's entities. */
  match: (f: Finding) => boolean;
  level: Level;
  suppressedBy?: string;
  /** Reasons (signal ids) the scenario is about. */
  reasons?: string[];
}

const e = (f: Finding) => f.hit.entities;
const EXPECTED: Record<string, Expected> = {
  // T1608.003, CommonSecurityLog
  'C2 with openssl "localhost" self-signed cert (test 1)': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'update-check.sync-cloudnet.com', level: 'High', reasons: ['self_signed', 'hostname_mismatch', 'placeholder_cn', 'new_domain'] },
  'Sea Turtle: Contoso webmail cert on a lookalike outside Contoso ranges': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'webmail.c0ntoso.com', level: 'High', reasons: ['own_domain_outside_ranges', 'lookalike_domain', 'new_domain'] },
  'Cobalt Strike default cert on a bare IP': { detection: 'T1608.003', match: (f) => e(f).destinationIp === '198.51.100.77', level: 'Medium', reasons: ['self_signed'] },
  'openssl s_client capture of example.com (test 4), CN only': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'example.com', level: 'Low', reasons: ['hostname_mismatch'] },
  'legacy app renamed': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'hr.tailspintoys.com', level: 'Low', reasons: ['hostname_mismatch'] },
  'Zscaler interception cert': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'files.dropboxusercontent.com', level: 'High', suppressedBy: 'tls-inspection-appliance' },
  'CDN cert not naming the subdomain': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'images.wingtiptoys.com', level: 'Low', suppressedBy: 'cdn-wildcard-mismatch' },
  // High since issue 11: the firewall also reports the chain Untrusted (PanOSChainStatus), a signal of its own.
  'dev server self-signed': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'dev-api.contoso.com', level: 'High', suppressedBy: 'internal-dev-service' },
  'VPN shared internal-CA cert': { detection: 'T1608.003', match: (f) => e(f).destinationHost === 'vpn-eu.contoso.com', level: 'Low', suppressedBy: 'internal-ca-issuer' },
  // T1588.004, DeviceRegistryEvents
  'certutil -addstore Root (test 1)': { detection: 'T1588.004', match: (f) => e(f).processName === 'certutil.exe', level: 'High', reasons: ['root_store_write', 'script_host_writer'] },
  'Import-Certificate into Root (test 2)': { detection: 'T1588.004', match: (f) => e(f).processName === 'powershell.exe', level: 'High', reasons: ['root_store_write', 'script_host_writer'] },
  'adware root by an unexpected binary': { detection: 'T1588.004', match: (f) => e(f).processName === 'VisualDiscovery.exe', level: 'Medium', reasons: ['root_store_write'] },
  'unknown installer adds an intermediate': { detection: 'T1588.004', match: (f) => e(f).processName === 'setup_x64.exe', level: 'Low', reasons: ['intermediate_store_write'] },
  'msiexec pushes the corporate root': { detection: 'T1588.004', match: (f) => e(f).processName === 'msiexec.exe', level: 'Medium', suppressedBy: 'approved-cert-store-writer' },
  'Zscaler agent installs its root': { detection: 'T1588.004', match: (f) => e(f).processName === 'ZSATunnel.exe', level: 'Medium', suppressedBy: 'approved-cert-store-writer' },
  // T1587.003, DeviceProcessEvents + DeviceFileEvents
  'IIS New-SelfSignedCertificate for a lookalike (test 3)': { detection: 'T1587.003', match: (f) => e(f).host === 'web-iis-01.corp.contoso.com', level: 'High', reasons: ['powershell_certificate_creation', 'lookalike_domain'] },
  'certutil import into Root': { detection: 'T1587.003', match: (f) => e(f).processName === 'certutil.exe', level: 'Medium', reasons: ['certutil_store_import', 'trust_store_target'] },
  'PowerShell Import-Certificate into Root': { detection: 'T1587.003', match: (f) => e(f).processName === 'powershell.exe' && e(f).host === 'ws-hr-022.corp.contoso.com' && !e(f).filePath, level: 'Medium', reasons: ['trust_store_target'] },
  'PFX dropped in ProgramData': { detection: 'T1587.003', match: (f) => e(f).filePath?.endsWith('client.pfx') === true, level: 'Medium', reasons: ['cert_file_in_staging_folder', 'private_key_file'] },
  'openssl req -x509 on Linux': { detection: 'T1587.003', match: (f) => e(f).processName === 'openssl' && !e(f).filePath, level: 'Low', reasons: ['cert_tool_execution'] },
  'cert written to /tmp': { detection: 'T1587.003', match: (f) => e(f).filePath === '/tmp/adversary-cert.pem', level: 'Low' },
  '.cer staged in %TEMP% (test 2)': { detection: 'T1587.003', match: (f) => e(f).filePath?.endsWith('\\Temp\\root.cer') === true, level: 'Low' },
  // makecert -r makes a self-signed certificate: the subject naming Microsoft adds the vendor signal.
  'makecert fake Microsoft root': { detection: 'T1587.003', match: (f) => e(f).processName === 'makecert.exe', level: 'High', reasons: ['cert_tool_execution', 'vendor_root_self_signed'] },
  'CI runner ephemeral cert': { detection: 'T1587.003', match: (f) => e(f).host === 'ci-win-04.corp.contoso.com', level: 'High', suppressedBy: 'devops-pipeline' },
  'developer localhost cert': { detection: 'T1587.003', match: (f) => e(f).host === 'dev-ws-07.corp.contoso.com', level: 'Low', suppressedBy: 'dev-test-host' },
  'Datadog agent cert': { detection: 'T1587.003', match: (f) => e(f).processName === 'agent.exe', level: 'Low', suppressedBy: 'observability-agent' },
};

describe('certsoar hunt --offline', () => {
  let dir: string;
  let findings: Finding[];
  let io: ReturnType<typeof captureIo>;
  let code: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsoar-offline-'));
    io = captureIo(dir);
    code = await main(['hunt', '--offline', '--now', ANCHOR, '--out', 'out', '--json'], io);
    findings = parseNdjson(io.out);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('succeeds and prints only NDJSON findings on stdout with --json', () => {
    expect(code, io.err).toBe(0);
    expect(io.out.trim().split('\n').every((l) => l.startsWith('{'))).toBe(true);
    expect(findings.length).toBe(Object.keys(EXPECTED).length);
  });

  for (const [scenario, want] of Object.entries(EXPECTED)) {
    it(`${want.detection}: ${scenario} → ${want.level}${want.suppressedBy ? `, suppressed by ${want.suppressedBy}` : ''}`, () => {
      const matches = findings.filter((f) => f.hit.detectionId === want.detection && want.match(f));
      expect(matches).toHaveLength(1);
      const f = matches[0]!;
      expect(f.level).toBe(want.level);
      expect(f.suppressedBy?.rule).toBe(want.suppressedBy);
      for (const id of want.reasons ?? []) expect(f.reasons.map((r) => r.id)).toContain(id);
    });
  }

  it('shows High, Medium, Low and suppressed findings for each of the three techniques', () => {
    for (const technique of ['T1608.003', 'T1588.004', 'T1587.003']) {
      const mine = findings.filter((f) => f.hit.detectionId === technique);
      const live = mine.filter((f) => !f.suppressedBy);
      expect(new Set(live.map((f) => f.level)), technique).toEqual(new Set(['High', 'Medium', 'Low']));
      expect(mine.some((f) => f.suppressedBy), technique).toBe(true);
    }
  });

  it('turns benign and blocked rows into no finding', () => {
    const hosts = findings.map((f) => e(f).destinationHost);
    expect(hosts).not.toContain('www.contoso.com'); // Contoso's own site, real certificate, own range
    expect(findings.filter((f) => e(f).destinationHost === 'update-check.sync-cloudnet.com')).toHaveLength(1); // the denied twin row is gone
    expect(findings.filter((f) => e(f).destinationHost === 'webmail.c0ntoso.com')).toHaveLength(1); // the port-80 row is gone
    const commands = findings.map((f) => e(f).commandLine ?? '');
    for (const benign of ['certutil.exe -store Root', '-urlcache', 'Get-ChildItem Cert:', 's_client']) {
      expect(commands.some((c) => c.includes(benign)), benign).toBe(false);
    }
    expect(findings.some((f) => e(f).processName === 'svchost.exe')).toBe(false);
    expect(findings.some((f) => (e(f).registryKey ?? '').includes('\\MY\\'))).toBe(false);
    expect(findings.some((f) => e(f).filePath?.endsWith('report.pdf') || e(f).filePath?.includes('\\Downloads\\'))).toBe(false);
  });

  it('enriches from the recorded crt.sh answers through the real client, with dates moved to now', () => {
    const c2 = findings.find((f) => e(f).destinationHost === 'update-check.sync-cloudnet.com')!;
    expect(c2.enrichment.ct?.domain).toBe('sync-cloudnet.com');
    expect(c2.enrichment.ct?.source).toBe('crtsh');
    // recorded: first certificate 5 days 3 hours before the anchor, 3 certificates in the last 7 days
    expect(Date.parse(c2.enrichment.ct!.firstSeen!)).toBeGreaterThan(Date.parse(ANCHOR) - 6 * 86_400_000);
    expect(c2.enrichment.ct?.issuedLast7Days).toBe(3);
    expect(c2.enrichment.ct?.freeAcmeIssuers.join(' ')).toContain("Let's Encrypt");
    const example = findings.find((f) => e(f).destinationHost === 'example.com')!;
    expect(example.enrichment.ct?.certificateInCt).toBe(true); // serial 0c1fcb… is in the real example.com answer
    // its fingerprint is logged but no PEM is recorded, so the fingerprint lookup misses: the serial match still counts
    expect(example.enrichment.ctCertificate?.found).toBe(false);
    expect(example.enrichment.certificateInCt).toBe(true);
    expect(example.reasons.map((r) => r.id)).not.toContain('absent_from_ct');
    expect(findings.every((f) => f.enrichment.missing.every((m) => m.source !== 'tls_probe'))).toBe(true);
  });

  it('Sea Turtle: finds Contoso\'s certificate in contoso.com\'s CT history, not "absent" from the lookalike\'s', () => {
    const seaTurtle = findings.find((f) => e(f).destinationHost === 'webmail.c0ntoso.com')!;
    expect(seaTurtle.enrichment.ct?.domain).toBe('c0ntoso.com');
    expect(seaTurtle.enrichment.ctOtherDomains?.map((h) => h.domain)).toEqual(['contoso.com']);
    expect(seaTurtle.enrichment.certificateInCt).toBe(true);
    expect(seaTurtle.enrichment.certificateFoundIn).toEqual(['contoso.com']);
    expect(seaTurtle.reasons.map((r) => r.id)).not.toContain('absent_from_ct');
  });

  it('writes findings.ndjson, one card per finding and a report that contains every finding', async () => {
    const out = join(dir, 'out');
    const written = parseNdjson(await readFile(join(out, 'findings.ndjson'), 'utf8'));
    expect(written.map((f) => f.id).sort()).toEqual(findings.map((f) => f.id).sort());
    const cards = (await readdir(join(out, 'cards'))).sort();
    expect(cards).toEqual(findings.map((f) => `${f.id}.json`).sort());
    const card = JSON.parse(await readFile(join(out, 'cards', cards[0]!), 'utf8')) as { type: string };
    expect(card.type).toBe('AdaptiveCard');

    const html = await readFile(join(out, 'report.html'), 'utf8');
    const [live, suppressed] = html.split('<section id="suppressed">');
    for (const f of findings) {
      expect(f.suppressedBy ? suppressed : live).toContain(`data-finding-id="${f.id}"`);
      if (f.suppressedBy) expect(suppressed).toContain(`Suppressed by <code>${f.suppressedBy.rule}</code>`);
    }
    // offline: no external script or stylesheet
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
  });

  it('renders every card in the page with the inlined adaptivecards library, highest score first', async () => {
    const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
    const errors: string[] = [];
    const virtualConsole = new VirtualConsole();
    virtualConsole.on('jsdomError', (err) => errors.push(err.message));
    const dom = new JSDOM(html, { runScripts: 'dangerously', virtualConsole });
    const doc = dom.window.document;
    expect(errors).toEqual([]);
    expect(doc.body.getAttribute('data-cards-rendered')).toBe(String(findings.length));
    const cardNodes = [...doc.querySelectorAll('[data-card-for]')];
    expect(cardNodes).toHaveLength(findings.length);
    for (const node of cardNodes) expect(node.querySelector('.ac-adaptiveCard'), node.textContent ?? '').not.toBeNull();
    const scores = [...doc.querySelectorAll('#findings .finding')].map((n) => Number(n.getAttribute('data-score')));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    dom.window.close();
  });

  it('gives the same findings whatever day it runs: the samples move with --now', async () => {
    const later = captureIo(dir);
    const laterNow = '2027-03-01T08:30:00Z';
    expect(await main(['hunt', '--offline', '--now', laterNow, '--out', 'out-later', '--json'], later)).toBe(0);
    const again = parseNdjson(later.out);
    const summary = (fs: Finding[]) => fs.map((f) => `${f.hit.detectionId} ${f.level} ${f.score} ${f.suppressedBy?.rule ?? ''} ${e(f).host ?? ''}`).sort();
    expect(summary(again)).toEqual(summary(findings));
    const c2 = again.find((f) => e(f).destinationHost === 'update-check.sync-cloudnet.com')!;
    const shift = Date.parse(laterNow) - Date.parse(ANCHOR);
    const first = findings.find((f) => e(f).destinationHost === 'update-check.sync-cloudnet.com')!;
    expect(Date.parse(c2.hit.time) - Date.parse(first.hit.time)).toBe(shift);
    expect(Date.parse(c2.enrichment.ct!.firstSeen!) - Date.parse(first.enrichment.ct!.firstSeen!)).toBe(shift);
  });

  it('prints the summary table for people, with suppressed rows marked', async () => {
    const people = captureIo(dir);
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--out', 'out-table', '--detection', 'T1588.004'], people)).toBe(0);
    const lines = people.out.split('\n');
    expect(lines[0]).toMatch(/^DETECTION\s+ENTITY\s+ROWS\s+SOURCES\s+SCORE\s+LEVEL\s+TOP REASONS/);
    expect(people.out).toContain('suppressed by approved-cert-store-writer');
    expect(people.out).toMatch(/6 hit\(s\) → 6 finding\(s\) standing for 6 row\(s\): 2 High, 1 Medium, 1 Low, 0 Informational, 2 suppressed/);
    expect(people.out).not.toContain('T1608.003');
  });
});

describe('certsoar hunt --workspace', () => {
  let dir: string;
  let replay: CrtshReplay;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsoar-ws-'));
    // The portal's CSV export of real Akamai rows (no certificate fields: no hits) beside the sample firewall rows.
    await copyFile(join(datasets, 'commonsecuritylog', 'AkamaiSIEM.csv'), join(dir, 'CommonSecurityLog.akamai.csv'));
    await copyFile(join(samples, 'workspace', 'CommonSecurityLog.ndjson'), join(dir, 'CommonSecurityLog.ndjson'));
    replay = await startCrtshReplay({ dir: join(samples, 'crtsh'), shiftMs: 0 });
  });
  afterAll(async () => {
    await replay.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hunts exported tables with the tuning and crt.sh from the settings', async () => {
    const tuningFile = join(dir, '..', `${dir.split(/[\\/]/).pop()}-tuning.json`);
    await writeFile(tuningFile, JSON.stringify({ organisation: { domains: ['contoso.com'], addressRanges: ['10.0.0.0/8', '203.0.113.0/24'] } }));
    const io = captureIo(dir, { CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false', TUNING_FILE: tuningFile });
    const code = await main(['hunt', '--workspace', '.', '--detection', 'T1608.003', '--now', ANCHOR, '--json'], io);
    expect(code, io.err).toBe(0);
    const findings = parseNdjson(io.out);
    // the 17 sample rows give 14 hits, 9 threats (six sessions to one C2); the 29 Akamai rows carry no certificate and give none
    expect(findings).toHaveLength(9);
    expect(findings.every((f) => f.hit.row.DeviceVendor !== 'Akamai')).toBe(true);
    // the organisation from TUNING_FILE is in force: the Sea Turtle signal needs it
    expect(findings.find((f) => e(f).destinationHost === 'webmail.c0ntoso.com')?.reasons.map((r) => r.id)).toContain('own_domain_outside_ranges');
    expect(replay.requests.some((r) => r.includes('sync-cloudnet.com'))).toBe(true);
    // no --out: nothing written
    expect((await readdir(dir)).sort()).toEqual(['CommonSecurityLog.akamai.csv', 'CommonSecurityLog.ndjson']);
    await rm(tuningFile);
  });

  it('without the organisation in the tuning, the Sea Turtle signal stays silent', async () => {
    const io = captureIo(dir, { CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false' });
    expect(await main(['hunt', '--workspace', dir, '--detection', 'T1608.003', '--now', ANCHOR, '--json'], io)).toBe(0);
    const seaTurtle = parseNdjson(io.out).find((f) => e(f).destinationHost === 'webmail.c0ntoso.com')!;
    expect(seaTurtle.reasons.map((r) => r.id)).not.toContain('own_domain_outside_ranges');
  });

  it('--since keeps only rows newer than now - since', async () => {
    const io = captureIo(dir, { CRTSH_BASE_URL: replay.baseUrl, TLS_PROBE_ENABLED: 'false' });
    // 3 hours before the anchor: only the C2 (09:42), Cobalt Strike (10:15) and example.com (11:02) rows
    expect(await main(['hunt', '--workspace', dir, '--since', '3h', '--now', ANCHOR, '--json'], io)).toBe(0);
    const hosts = parseNdjson(io.out).map((f) => e(f).destinationHost ?? e(f).destinationIp).sort();
    expect(hosts).toEqual(['198.51.100.77', 'example.com', 'update-check.sync-cloudnet.com']);
  });

  it('fails with exit 1 and names the directory when it does not exist', async () => {
    const io = captureIo(dir);
    expect(await main(['hunt', '--workspace', 'nope'], io)).toBe(1);
    expect(io.err).toContain('nope');
  });
});

describe('certsoar hunt --offline --deliver', () => {
  let server: Server;
  let base: string;
  const received: Array<{ path: string; body: { type?: string; findingId?: string; finding?: { id?: string }; attachments?: unknown[] } }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) as never });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('posts every live finding to the incident webhook and Teams, and nothing suppressed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certsoar-deliver-'));
    const io = captureIo(dir, { INCIDENT_WEBHOOK_URL: `${base}/incident?sig=SECRET`, TEAMS_WEBHOOK_URL: `${base}/teams?sig=SECRET`, DIGEST_THRESHOLD: '100' });
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--out', 'out', '--json', '--deliver'], io), io.err).toBe(0);
    const findings = parseNdjson(io.out);
    const live = findings.filter((f) => !f.suppressedBy);
    expect(received.filter((r) => r.path.startsWith('/incident'))).toHaveLength(live.length);
    expect(received.filter((r) => r.path.startsWith('/teams'))).toHaveLength(live.length);
    expect(received.filter((r) => r.path.startsWith('/teams')).every((r) => r.body.type === 'message')).toBe(true);
    const posted = JSON.stringify(received.map((r) => r.body));
    for (const f of findings.filter((x) => x.suppressedBy)) expect(posted).not.toContain(f.id);
    expect(io.err).toContain(`delivery: ${live.length * 2} posted, 0 already posted, 0 failed; ${findings.length - live.length} suppressed finding(s) not sent`);
    expect(io.err + io.out).not.toContain('SECRET');
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses --deliver without a webhook (exit 1, names the settings)', async () => {
    const io = captureIo(tmpdir(), {});
    expect(await main(['hunt', '--offline', '--now', ANCHOR, '--out', join(tmpdir(), `certsoar-nodeliver-${process.pid}`), '--deliver'], io)).toBe(1);
    expect(io.err).toContain('INCIDENT_WEBHOOK_URL');
    expect(io.err).toContain('TEAMS_WEBHOOK_URL');
    await rm(join(tmpdir(), `certsoar-nodeliver-${process.pid}`), { recursive: true, force: true });
  });
});

describe('certsoar hunt: bad usage exits 2 with the usage', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown option', ['--bogus'], /Unknown option '--bogus'/],
    ['a positional argument', ['everything'], /positional/],
    ['--offline with --workspace', ['--offline', '--workspace', 'x'], /cannot be combined/],
    ['a bad --since', ['--offline', '--since', 'forever'], /not a duration/],
    ['a bad --now', ['--offline', '--now', 'yesterday'], /not an ISO-8601 time/],
    ['an unknown detection', ['--offline', '--detection', 'T9999.999'], /unknown detection "T9999.999"/],
    ['--png without an output directory', ['--workspace', 'x', '--png'], /--png needs --out/],
    ['--out without a value', ['--offline', '--out'], /argument missing/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const io = captureIo(tmpdir());
      expect(await main(['hunt', ...args], io)).toBe(2);
      expect(io.err).toMatch(message);
      expect(io.err).toContain('usage: certsoar hunt');
      expect(io.out).toBe('');
    });
  }

  it('--help prints the usage and exits 0', async () => {
    const io = captureIo(tmpdir());
    expect(await main(['hunt', '--help'], io)).toBe(0);
    expect(io.out).toContain('--offline');
  });

  it('without --offline or --workspace it needs LOG_ANALYTICS_WORKSPACE_ID (exit 1, no credential built)', async () => {
    const io = captureIo(tmpdir(), {});
    io.credential = { getToken: async () => ({ token: 'fake', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    expect(await main(['hunt'], io)).toBe(1);
    expect(io.err).toContain('LOG_ANALYTICS_WORKSPACE_ID');
  });
});
