import type { AccessToken, TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { timeFilter } from '../../../shared/detections/common.js';
import type { Detection } from '../../../shared/detections/types.js';
import type { TableSchema } from '../../../shared/detections/kql-validator.js';
import type { LaRecord, LogAnalyticsServer } from '../../helpers/log-analytics-server.js';

/**
 * A tiny test-only detection: every row of TestEvents is a hit keyed by its EventId. Its query
 * uses the shared time filter, so the local Log Analytics server reads the window from it.
 */
export const testDetection: Detection<{ lookback: string }> = {
  meta: {
    id: 'TEST.001',
    title: 'Test detection',
    description: 'Every TestEvents row is a hit.',
    technique: { id: 'TEST.001', name: 'Test', url: 'https://attack.mitre.org/' },
    tactics: ['Testing'],
    severity: 'Low',
    confidence: 'low',
    tables: ['TestEvents'],
    connectors: [],
    queryFrequency: '5m',
    queryPeriod: '1d',
    schedule: '0 */5 * * * *',
    falsePositives: [],
    references: [],
  },
  paramsSchema: z.object({ lookback: z.string().default('1d') }),
  buildQuery: (p, window) => ['TestEvents', timeFilter(p.lookback, window), '| project TimeGenerated, EventId, Host, Extra'].join('\n'),
  evaluate: (row) => ({
    key: `test-${String(row.EventId)}`,
    time: String(row.TimeGenerated),
    signals: [{ id: 'test', points: 1, reason: 'a test event' }],
    indicators: { EventId: String(row.EventId) },
    entities: { host: String(row.Host), domains: [] },
  }),
  projectedColumns: ['TimeGenerated', 'EventId', 'Host', 'Extra'],
  scheduleSetting: 'HUNT_SCHEDULE_TEST_001',
};

/** The TestEvents table, for the local Log Analytics server that executes the query over it. */
export const TEST_SCHEMA: TableSchema = {
  name: 'TestEvents',
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'EventId', type: 'long' },
    { name: 'Host', type: 'string' },
    { name: 'Extra', type: 'dynamic' },
  ],
};

/** The server's TestEvents rows (created empty on first use). */
export function testEvents(server: LogAnalyticsServer): LaRecord[] {
  return (server.tables.TestEvents ??= []);
}

/** A credential that hands out a fixed token and counts the calls; never touches the network. */
export function fakeCredential(): TokenCredential & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    getToken: async (scopes: string | string[]): Promise<AccessToken> => {
      calls.push(Array.isArray(scopes) ? scopes : [scopes]);
      return { token: 'fake-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
