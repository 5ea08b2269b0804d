import { describe, expect, it } from 'vitest';
import type { Enrichment, Hit, Signal } from '../../../shared/model.js';
import { findSuppression, levelFor, score } from '../../../shared/scoring/score.js';
import { DEFAULT_TUNING, parseTuning } from '../../../shared/scoring/tuning.js';
import { findingId, makeFinding } from '../../../shared/scoring/finding.js';

function hit(signals: Signal[], overrides: Partial<Hit> = {}): Hit {
  return {
    detectionId: 'T1608.003',
    key: 'k1',
    time: '2026-11-01T00:00:00.000Z',
    row: {},
    signals,
    indicators: {},
    entities: { domains: [] },
    ...overrides,
  };
}

const selfSigned: Signal = { id: 'self_signed', points: 3, reason: 'issuer equals subject' };
const mismatch: Signal = { id: 'hostname_mismatch', points: 2, reason: 'CN does not cover the host' };
const placeholder: Signal = { id: 'placeholder_cn', points: 2, reason: 'placeholder CN' };
const noEnrichment: Enrichment = { missing: [], enrichedAt: '2026-11-01T00:00:00.000Z' };

describe('levelFor', () => {
  it.each([
    [0, 'Informational'],
    [1.99, 'Informational'],
    [2, 'Low'],
    [2.5, 'Low'],
    [3, 'Medium'],
    [4, 'Medium'],
    [5, 'High'],
    [12, 'High'],
  ] as const)('%d points is %s', (points, level) => {
    expect(levelFor(points, DEFAULT_TUNING)).toBe(level);
  });

  it('follows thresholds from the tuning document', () => {
    const tuning = parseTuning({ levels: { low: 1, medium: 4, high: 8 } });
    expect(levelFor(1, tuning)).toBe('Low');
    expect(levelFor(5, tuning)).toBe('Medium');
    expect(levelFor(8, tuning)).toBe('High');
  });
});

describe('score', () => {
  it('sums the named signals and keeps each reason', () => {
    const result = score(hit([selfSigned, mismatch, placeholder], { entities: { domains: [], destinationHost: 'evil.example' } }), noEnrichment, DEFAULT_TUNING);
    expect(result.score).toBe(7);
    expect(result.level).toBe('High');
    expect(result.reasons.map((r) => r.id)).toEqual(['self_signed', 'hostname_mismatch', 'placeholder_cn']);
    expect(result.suppressedBy).toBeUndefined();
  });

  it('scores a hit without enrichment from its base signals alone', () => {
    expect(score(hit([mismatch]), undefined, DEFAULT_TUNING)).toMatchObject({ score: 2, level: 'Low' });
  });

  it('a suppressed finding keeps its score and says what suppressed it', () => {
    const tuning = parseTuning({ organisation: { tlsInspectionAppliances: ['10.1.1.5'] } });
    const h = hit([selfSigned, mismatch], { certificate: { issuer: 'CN=Zscaler Intermediate Root CA (zscaler.net)' }, entities: { domains: [], destinationIp: '10.1.1.5' } });
    const result = score(h, noEnrichment, tuning);
    expect(result.score).toBe(5);
    expect(result.level).toBe('High');
    expect(result.suppressedBy).toEqual({ rule: 'tls-inspection-appliance', reason: expect.stringContaining('TLS-inspection') });
  });

  it('the CDN rule suppresses a lone wildcard mismatch but not a self-signed CDN-looking certificate', () => {
    const cdn = { certificate: { subjectCommonName: '*.cloudfront.net', subject: 'CN=*.cloudfront.net' } };
    expect(findSuppression(hit([mismatch], cdn), DEFAULT_TUNING)?.rule).toBe('cdn-wildcard-mismatch');
    expect(findSuppression(hit([mismatch, selfSigned], cdn), DEFAULT_TUNING)).toBeUndefined();
  });

  it('rules apply only to the detections they name', () => {
    const writer = { entities: { domains: [], processName: 'msiexec.exe' }, row: { InitiatingProcessFileName: 'msiexec.exe', InitiatingProcessFolderPath: 'C:\\Windows\\System32\\msiexec.exe' } };
    expect(findSuppression(hit([selfSigned], { ...writer, detectionId: 'T1588.004' }), DEFAULT_TUNING)?.rule).toBe('approved-cert-store-writer');
    expect(findSuppression(hit([selfSigned], { ...writer, detectionId: 'T1608.003' }), DEFAULT_TUNING)).toBeUndefined();
  });

  it('matches source ranges as CIDR, IPv4 and IPv6', () => {
    const tuning = parseTuning({
      suppressions: [{ id: 'lab-net', reason: 'lab network', when: { sourceIp: ['10.20.0.0/16', 'fd00:1::/32'] } }],
    });
    expect(findSuppression(hit([], { entities: { domains: [], sourceIp: '10.20.3.4' } }), tuning)?.rule).toBe('lab-net');
    expect(findSuppression(hit([], { entities: { domains: [], sourceIp: '10.21.3.4' } }), tuning)).toBeUndefined();
    expect(findSuppression(hit([], { entities: { domains: [], sourceIp: 'fd00:1::5' } }), tuning)?.rule).toBe('lab-net');
    expect(findSuppression(hit([], { entities: { domains: [], sourceIp: 'not-an-ip' } }), tuning)).toBeUndefined();
  });

  it('every condition of a rule must hold', () => {
    const tuning = parseTuning({
      suppressions: [{ id: 'both', reason: 'r', when: { host: ['build-*'], processName: ['openssl.exe'] } }],
    });
    expect(findSuppression(hit([], { entities: { domains: [], host: 'build-07', processName: 'openssl.exe' } }), tuning)?.rule).toBe('both');
    expect(findSuppression(hit([], { entities: { domains: [], host: 'build-07', processName: 'certutil.exe' } }), tuning)).toBeUndefined();
  });
});

describe('makeFinding', () => {
  it('derives the same id from the same hit, and another id from another hit', () => {
    const a = hit([selfSigned]);
    expect(findingId(a)).toBe(findingId({ ...a }));
    expect(findingId(a)).not.toBe(findingId({ ...a, key: 'k2' }));
    expect(findingId(a)).not.toBe(findingId({ ...a, detectionId: 'T1588.004' }));
  });

  it('carries hit, enrichment and score', () => {
    const f = makeFinding(hit([selfSigned, placeholder]), noEnrichment, DEFAULT_TUNING, new Date('2026-11-02T00:00:00Z'));
    expect(f).toMatchObject({ score: 5, level: 'High', scoredAt: '2026-11-02T00:00:00.000Z' });
    expect(f.id).toMatch(/^[0-9a-f]{32}$/);
  });
});
