import { domainToUnicode } from 'node:url';
import { parse } from 'tldts';
import { eventTimeOf } from '../enrichment/certificate-age.js';
import { ctPresence } from '../enrichment/ct-presence.js';
import type { Enrichment, Hit, Signal } from '../model.js';
import { inRanges } from './match.js';
import type { Tuning } from './tuning.js';

/**
 * Signals from enrichment (DESIGN.md, Scoring): recent certificate, new domain in CT, absent
 * from CT though a public CA issued it, issuance burst, own domain served from outside the
 * organisation's ranges (Sea Turtle), self-signed certificate naming a well-known vendor,
 * lookalike of an organisation domain. Pure: "now" is the enrichment's enrichedAt; certificate age and
 * "first seen in CT" are measured at the event time (the threat's first row).
 */
export function enrichmentSignals(hit: Hit, enrichment: Enrichment, tuning: Tuning): Signal[] {
  const t = tuning.enrichment;
  const w = t.weights;
  const now = Date.parse(enrichment.enrichedAt);
  const signals: Signal[] = [];
  const add = (id: keyof typeof w, reason: string) => {
    if (w[id] !== 0) signals.push({ id, points: w[id], reason });
  };

  const age = enrichment.certificateAge;
  if (age?.ageDays !== undefined && age.ageDays > -1 && age.ageDays <= t.recentCertificateDays) {
    add('recent_certificate', `certificate issued ${formatDays(age.ageDays)} before the event (notBefore ${age.notBefore}, from ${age.from})`);
  }

  const presented = enrichment.tlsProbe?.chain[0];
  if (presented?.notAfter && Date.parse(presented.notAfter) < now) {
    add('expired_certificate', `the certificate ${enrichment.tlsProbe!.host}:${enrichment.tlsProbe!.port} presented live expired ${formatDays((now - Date.parse(presented.notAfter)) / 86_400_000)} ago (notAfter ${presented.notAfter})`);
  }

  const ct = enrichment.ct;
  if (ct?.firstSeen && !ct.truncated) {
    // "New" as of the event (the threat's first row), not of the hunt: a replayed log's domain
    // that was new when it was contacted is new.
    const days = (eventTimeOf(hit, new Date(now)).getTime() - Date.parse(ct.firstSeen)) / 86_400_000;
    if (days <= t.newDomainDays) {
      add('new_domain', days >= 0 ? `${ct.domain} first appeared in CT ${formatDays(days)} before the event (${ct.firstSeen})` : `${ct.domain} first appeared in CT ${formatDays(-days)} after the event (${ct.firstSeen})`);
    }
  }

  const issuer = issuerOf(hit, enrichment);
  const selfSigned = Boolean(hit.certificate?.selfSigned || enrichment.tlsProbe?.selfSigned || enrichment.ctCertificate?.selfSigned);
  const publicCa = issuer ? t.publicCaIssuers.find((ca) => includesFold(issuer, ca)) : undefined;
  const notBefore = age?.notBefore ? Date.parse(age.notBefore) : undefined;
  const pastLoggingLag = notBefore === undefined || now - notBefore > 86_400_000;
  // Absent only when every lookup that could have found it ran and none did (fingerprint and the
  // serial/issuer in each history); a failed, skipped or truncated lookup is "cannot tell".
  const absent = ctPresence(hit, enrichment).inCt === false;
  if (publicCa && !selfSigned && absent && pastLoggingLag) {
    add('absent_from_ct', `issuer claims to be ${publicCa}, a public CA, but the certificate is not in CT (${absenceChecks(enrichment)})`);
  }

  if (ct && ct.issuedLast7Days >= t.burstThreshold) {
    add('issuance_burst', `${ct.issuedLast7Days} certificates issued for ${ct.domain} in the last 7 days (threshold ${t.burstThreshold})`);
  }

  const orgDomains = tuning.organisation.domains.map((d) => d.toLowerCase().replace(/\.$/, ''));
  const names = certificateNames(hit, enrichment);
  const served = hit.entities.destinationIp ?? enrichment.tlsProbe?.address;
  if (orgDomains.length > 0 && tuning.organisation.addressRanges.length > 0 && served) {
    const own = names.find((n) => orgDomains.some((d) => n === d || n.endsWith(`.${d}`)));
    if (own && !inRanges(tuning.organisation.addressRanges, served)) {
      add('own_domain_outside_ranges', `certificate names ${own}, an organisation domain, but is served from ${served}, outside the organisation's ranges`);
    }
  }

  if (selfSigned && !enrichment.ctCertificate?.found) {
    const dns = [hit.certificate?.subject, hit.certificate?.subjectCommonName, hit.certificate?.issuer, hit.certificate?.issuerCommonName, enrichment.tlsProbe?.chain[0]?.subject, enrichment.ctCertificate?.subject];
    const values = dns.flatMap((dn) => dnValues(dn));
    const vendor = t.wellKnownVendors.find((v) => values.some((value) => namesVendor(value, v)));
    if (vendor) add('vendor_root_self_signed', `self-signed certificate names ${vendor}, a well-known vendor that would not sign its own`);
  }

  if (orgDomains.length > 0) {
    const candidates = new Set([...names, ...hit.entities.domains.map((d) => d.toLowerCase()), hit.entities.destinationHost?.toLowerCase()].filter((x): x is string => Boolean(x)));
    for (const name of candidates) {
      const look = lookalikeOf(name, orgDomains, t.lookalikeMaxDistance);
      if (look) {
        add('lookalike_domain', `${look.domain} looks like the organisation's ${look.of} (${look.how})`);
        break;
      }
    }
  }
  return signals;
}

/** A domain that imitates one of the organisation's (edit distance, homoglyphs, TLD swap, brand plus words), never one of them. */
export function lookalikeOf(name: string, orgDomains: readonly string[], maxDistance: number): { domain: string; of: string; how: string } | undefined {
  const p = parse(name.replace(/^\*\./, ''), { allowPrivateDomains: false });
  if (!p.domain || !p.domainWithoutSuffix) return undefined;
  const domain = p.domain;
  if (orgDomains.some((d) => domain === d || name.endsWith(`.${d}`) || name === d)) return undefined;
  const label = p.domainWithoutSuffix;
  const labelSkeleton = skeleton(domainToUnicode(label) || label);
  for (const org of orgDomains) {
    const o = parse(org, { allowPrivateDomains: false });
    const orgLabel = o.domainWithoutSuffix;
    if (!orgLabel) continue;
    if (label === orgLabel) return { domain, of: org, how: 'same name under another suffix' };
    if (labelSkeleton === skeleton(orgLabel)) return { domain, of: org, how: 'homoglyphs' };
    if (orgLabel.length >= 4) {
      const distance = editDistance(label, orgLabel);
      if (distance <= maxDistance) return { domain, of: org, how: `edit distance ${distance}` };
    }
    if (orgLabel.length >= 5 && label.split(/[-.]/).includes(orgLabel)) return { domain, of: org, how: 'brand name with extra words' };
  }
  return undefined;
}

const CONFUSABLES: Record<string, string> = {
  '0': 'o', '1': 'l', '3': 'e', '5': 's', '$': 's', '@': 'a', i: 'l', '|': 'l',
  'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'l', 'ѕ': 's', 'ј': 'j', 'ԁ': 'd', 'ɡ': 'g', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w',
  'ο': 'o', 'α': 'a', 'ν': 'v', 'τ': 't', 'ι': 'l', 'κ': 'k', 'ρ': 'p',
};

/** Letters that look alike collapse to one form: rn→m, vv→w, cl→d, 0→o, Cyrillic а→a, … */
export function skeleton(label: string): string {
  const folded = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  return [...folded]
    .map((ch) => CONFUSABLES[ch] ?? ch)
    .join('')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/cl/g, 'd')
    .replace(/-/g, '');
}

/** Damerau–Levenshtein (optimal string alignment) distance. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function certificateNames(hit: Hit, enrichment: Enrichment): string[] {
  const c = hit.certificate;
  const leaf = enrichment.tlsProbe?.chain[0];
  const raw = [c?.subjectCommonName, cnFrom(c?.subject), ...(c?.sans ?? []), cnFrom(leaf?.subject), ...(leaf?.sans ?? []), cnFrom(enrichment.ctCertificate?.subject)];
  return [...new Set(raw.filter((n): n is string => Boolean(n)).map((n) => n.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '')))];
}

/** The name values of a DN in any form logs and command lines give it: "CN=x, O=y", "/C=US/O=y/CN=x", or a bare CN. */
export function dnValues(dn: string | undefined): string[] {
  if (!dn) return [];
  const text = dn.trim();
  const values = /(?:^|[,/+])\s*[A-Za-z][A-Za-z0-9.]*\s*=/.test(text)
    ? [...text.matchAll(/(?:^|[,/+])\s*[A-Za-z][A-Za-z0-9.]*\s*=\s*("(?:[^"\\]|\\.)*"|(?:\\.|[^,/+])*)/g)].map((m) => (m[1] ?? '').replace(/^"|"$/g, '').trim())
    : [text];
  return values.filter((v) => v !== '');
}

/**
 * Whether a DN value names the vendor: as a whole word in a name ("Microsoft IT TLS CA 5"), or, for
 * a DNS name, as the registrable domain itself (www.microsoft.com), never as a label of someone
 * else's host (microsoft.contoso.test).
 */
function namesVendor(value: string, vendor: string): boolean {
  if (/^(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)+\.?$/i.test(value)) {
    const label = parse(value.replace(/^\*\./, ''), { allowPrivateDomains: false }).domainWithoutSuffix;
    return label !== null && label !== undefined && label.toLowerCase() === vendor.toLowerCase().replace(/\s+/g, '');
  }
  return new RegExp(`\\b${escapeRegex(vendor)}\\b`, 'i').test(value);
}

/** What the absence rests on, for the reason: the fingerprint lookup and the histories searched. */
function absenceChecks(enrichment: Enrichment): string {
  const histories = [enrichment.ct, ...(enrichment.ctOtherDomains ?? [])].filter((h) => h?.certificateInCt === false).map((h) => h?.domain);
  return [
    ...(enrichment.ctCertificate?.found === false ? ['fingerprint not found'] : []),
    ...(histories.length > 0 ? [`not in the CT history of ${histories.join(', ')}`] : []),
  ].join('; ');
}

function issuerOf(hit: Hit, enrichment: Enrichment): string | undefined {
  const parts = [hit.certificate?.issuer, hit.certificate?.issuerCommonName, enrichment.tlsProbe?.chain[0]?.issuer, enrichment.ctCertificate?.issuer].filter(Boolean);
  return parts.length > 0 ? parts.join(' | ') : undefined;
}

function cnFrom(dn: string | undefined): string | undefined {
  return dn ? /(?:^|[,/]\s*)CN=([^,/]+)/i.exec(dn)?.[1]?.trim() : undefined;
}

function includesFold(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function formatDays(days: number): string {
  return days < 1 ? 'less than a day' : `${Math.floor(days)} day${Math.floor(days) === 1 ? '' : 's'}`;
}
