import { loadConfig } from '../../shared/config.js';
import { type Enricher, enricherFromConfig } from '../../shared/enrichment/enricher.js';
import { ValidationError } from '../../shared/errors.js';
import type { Finding, Hit } from '../../shared/model.js';
import { observableHit, parseObservableArgument, withProbeVerdicts } from '../../shared/observables.js';
import { makeFinding } from '../../shared/scoring/finding.js';
import { tuningFromConfig } from '../../shared/scoring/tuning.js';
import { type CliIo, type Command, UsageError } from '../io.js';

export const USAGE = `usage: certsoar enrich <domain|sha1|sha256|host:port|IP|URL> [--json]

Looks the observable up in certificate transparency (crt.sh), probes a host:port live for
the certificate chain it presents (private and metadata addresses refused unless
TLS_PROBE_ALLOW_PRIVATE=true), and prints the enrichment and the score. The probe's verdicts
(self-signed, names that do not cover the host, placeholder CN, expired) score as they do in a
hunt. Accepted: example.com, a Unicode look-alike (lookup as punycode), a SHA-1 or SHA-256,
host:port or [2001:db8::1]:443, a single-label intranet:443 (probe only), a bare IP (probed on
443), a URL (https://host:port/path: its host and port).

  --json   print the finding as JSON`;

/** Tests inject an enricher; otherwise it is built from the settings. */
export function makeEnrichCommand(enricherFor?: (io: CliIo) => Enricher): Command {
  return async (args, io) => {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const unknown = args.filter((a) => a.startsWith('-') && a !== '--json');
    if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}`, USAGE);
    const positional = args.filter((a) => !a.startsWith('-'));
    if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'an observable is required' : 'exactly one observable is expected', USAGE);
    let observable;
    try {
      observable = parseObservableArgument(positional[0] as string);
    } catch (err) {
      if (err instanceof ValidationError) throw new UsageError(`'${positional[0]}' is not a domain, SHA-1, SHA-256, host:port, IP address or URL`, USAGE);
      throw err;
    }
    const config = loadConfig(io.env);
    const tuning = tuningFromConfig(config);
    const enricher = enricherFor ? enricherFor(io) : enricherFromConfig(config, io.credential, { freeAcmeIssuers: tuning.enrichment.freeAcmeIssuers });
    const hit = observableHit(observable, new Date());
    const enrichment = await withProgress(enricher.enrich(hit), io, describeLookups(hit, config.CRTSH_BASE_URL));
    const finding = makeFinding(withProbeVerdicts(hit, enrichment.tlsProbe, tuning), enrichment, tuning);
    io.stdout(args.includes('--json') ? `${JSON.stringify(finding, null, 2)}\n` : formatFinding(finding));
    return 0;
  };
}

export const run: Command = makeEnrichCommand();

/** What the enrichment waits for, for the progress line. */
function describeLookups(hit: Hit, crtshUrl: string): string {
  const parts: string[] = [];
  if (hit.entities.domains.length > 0 || hit.certificate) parts.push(`crt.sh (${new URL(crtshUrl).host})`);
  if (hit.entities.destinationPort !== undefined) parts.push(`a live TLS probe of ${hit.entities.destinationHost ?? hit.entities.destinationIp}:${hit.entities.destinationPort}`);
  return parts.join(' and ') || 'the enrichment';
}

/** A line on stderr every few seconds while a slow lookup runs, so a silent minute never happens. */
async function withProgress<T>(work: Promise<T>, io: CliIo, what: string, everyMs = 3_000): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => io.stderr(`certsoar enrich: still waiting for ${what} (${Math.round((Date.now() - started) / 1000)} s)\n`), everyMs);
  timer.unref();
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export function formatFinding(f: Finding): string {
  const e = f.enrichment;
  const withoutCt = e.missing.some((m) => m.source === 'crtsh');
  const lines: string[] = [
    `${f.hit.row.Observable as string}: score ${f.score} (${f.level})${f.suppressedBy ? `, suppressed by ${f.suppressedBy.rule}` : ''}${withoutCt ? ' — without certificate transparency: crt.sh could not answer (see "missing" below)' : ''}`,
  ];
  for (const r of f.reasons) lines.push(`  +${r.points} ${r.id}: ${r.reason}`);
  if (e.ct) {
    const c = e.ct;
    lines.push(
      `CT history of ${c.domain} (${c.source}${c.truncated ? ', truncated at the crt.sh row cap: counts are lower bounds' : ''}):`,
      `  first seen ${c.firstSeen ?? 'never'}; ${c.certificatesTotal} certificates; ${c.issuedLast7Days} in 7 days, ${c.issuedLast30Days} in 30 days`,
      `  ${c.distinctIssuers} issuers${c.freeAcmeIssuers.length ? ` (free ACME: ${c.freeAcmeIssuers.join(', ')})` : ''}; ${c.wildcardCertificates} wildcard certificates`,
    );
    if (c.certificateInCt !== undefined) lines.push(`  the certificate is ${c.certificateInCt ? '' : 'NOT '}in CT`);
  }
  if (e.ctCertificate) {
    const c = e.ctCertificate;
    lines.push(c.found ? `CT certificate: ${c.subject} issued by ${c.issuer}, ${c.notBefore} → ${c.notAfter}${c.selfSigned ? ' (self-signed)' : ''}` : 'CT certificate: not found in crt.sh');
  }
  if (e.certificateAge) lines.push(`certificate age: ${e.certificateAge.ageDays} days (notBefore ${e.certificateAge.notBefore}, from ${e.certificateAge.from})`);
  if (e.tlsProbe) {
    const p = e.tlsProbe;
    lines.push(`TLS probe ${p.host}:${p.port} (${p.address}): ${p.authorized ? 'trusted' : `untrusted (${p.authorizationError ?? 'unknown'})`}${p.selfSigned ? ', self-signed' : ''}`);
    for (const c of p.chain) lines.push(`  ${c.subject} ← ${c.issuer}; ${c.notBefore} → ${c.notAfter}; sha256 ${c.sha256}${c.sans.length ? `; SANs ${c.sans.join(', ')}` : ''}`);
  }
  for (const m of e.missing) lines.push(`missing ${m.source}${m.retryable ? ' (retryable)' : ''}: ${m.reason}`);
  return `${lines.join('\n')}\n`;
}
