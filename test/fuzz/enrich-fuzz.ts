import azureFunctions from '@azure/functions';
import fc from 'fast-check';
import { type EnrichDeps, makeEnrichHandler } from '../../functions/enrich.js';
import { createEnricher } from '../../shared/enrichment/enricher.js';
import { parseTuning } from '../../shared/scoring/tuning.js';
import { T1587_003_SCENARIOS } from '../shared/detections/definitions/t1587-003.scenarios.js';
import { T1588_004_SCENARIOS } from '../shared/detections/definitions/t1588-004.scenarios.js';
import { T1608_003_SCENARIOS } from '../shared/detections/definitions/t1608-003.scenarios.js';
import { INCIDENT_PAYLOAD } from '../helpers/sentinel-incident.js';

/**
 * Property-based fuzzing of POST /api/enrich: real scenario rows and a real Sentinel payload,
 * mutated with hostile cells (objects shadowing toString/valueOf, __proto__ keys, deep nesting,
 * huge strings, control characters, markup), plus raw bodies that are not JSON at all. The
 * property: never a 5xx, the answer serialises, and a 4xx names the field. crt.sh is not
 * configured here (a real configuration: the findings say it is missing), so the cases run
 * in-process; `npm run fuzz` points it at the loopback crt.sh stand-in.
 */

// Default import: the package is CommonJS, and tsx (npm run fuzz) does not see these as named exports.
const { HttpRequest, InvocationContext } = azureFunctions;

const SCENARIOS = [...T1608_003_SCENARIOS, ...T1588_004_SCENARIOS, ...T1587_003_SCENARIOS];
const DETECTION_IDS = ['T1608.003', 'T1588.004', 'T1587.003'];

const nested = (depth: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
};

const hostileCell: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom<unknown>(
    { toString: 0 },
    { valueOf: 0, toString: 'x' },
    { toJSON: 1 },
    JSON.parse('{"__proto__":{"polluted":1}}'),
    { constructor: { prototype: 1 } },
    [],
    {},
    '<img src=x onerror=alert(1)>',
    '\u001b[2J\u001b[31mred',
    '[click](https://evil.example)',
    'CN=' + 'x'.repeat(9_600),
    'ssl_subject=CN=' + 'FortinetSSL'.repeat(2_048) + ';ssl_issuer=CN=' + 'FortinetSSL'.repeat(2_048),
    '\ud800',
    '%00%ff',
  ),
  fc.integer({ min: 1, max: 300 }).map((d) => nested(d, 'leaf')),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.integer(), fc.constant({ toString: 0 })), { maxKeys: 4 }),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 5 }),
);

const huntHitBody = fc
  .record({
    scenario: fc.constantFrom(...SCENARIOS),
    detectionId: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...DETECTION_IDS) }, fc.string(), fc.constant({ toString: 0 } as unknown)),
    mutations: fc.array(fc.tuple(fc.oneof(fc.constantFrom('DeviceAction', 'DestinationPort', 'DestinationHostName', 'AdditionalExtensions', 'ProcessCommandLine', 'InitiatingProcessCommandLine', 'RegistryKey', 'DeviceVendor', 'DeviceProduct', 'TimeGenerated', 'SHA1', 'FileName', 'FolderPath', 'DestinationIP', 'toString', '__proto__', 'constructor'), fc.string({ maxLength: 20 })), hostileCell), { maxLength: 5 }),
  })
  .map(({ scenario, detectionId, mutations }) => {
    const row: Record<string, unknown> = { ...scenario.row };
    for (const [k, v] of mutations) Object.defineProperty(row, k, { value: v, enumerable: true, configurable: true, writable: true });
    return { detectionId, row };
  });

const observableBody = fc.oneof(
  fc.record({ domain: hostileCell }),
  fc.record({ sha1: hostileCell }),
  fc.record({ sha256: hostileCell }),
  fc.record({ host: hostileCell, port: hostileCell }),
  fc.record({ domain: fc.domain() }),
);

const incidentBody = fc
  .array(fc.record({ kind: fc.oneof(fc.constantFrom('Url', 'Host', 'Ip', 'FileHash', 'File', 'Process', 'RegistryKey', 'RegistryValue', 'DnsResolution', 'Account'), fc.string(), hostileCell), properties: fc.oneof(fc.dictionary(fc.constantFrom('url', 'hostName', 'dnsDomain', 'address', 'algorithm', 'hashValue', 'key', 'value', 'commandLine', 'domainName', 'fqdn', 'name'), hostileCell, { maxKeys: 4 }), hostileCell) }), { maxLength: 6 })
  .map((entities) => {
    const payload = structuredClone(INCIDENT_PAYLOAD) as { object: { properties: { relatedEntities: unknown[] } } };
    payload.object.properties.relatedEntities = [...payload.object.properties.relatedEntities.slice(0, 2), ...entities];
    return payload;
  });

const rawBody = fc.oneof(
  fc.string(),
  fc.integer({ min: 1, max: 5_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  fc.integer({ min: 1, max: 5_000 }).map((d) => `{"detectionId":"T1608.003","row":{"DeviceAction":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}}`),
  fc.json(),
  fc.constantFrom('', 'null', '[]', '"x"', '{"object":null}', '{"object":{"properties":{"relatedEntities":"x"}}}', '{"detectionId":"T1608.003"}', '{"row":{}}', '{"domain":"a.b","extra":1}'),
);

export const enrichRequestBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: huntHitBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: observableBody.map((b) => JSON.stringify(b) ?? '{}') },
  { weight: 2, arbitrary: incidentBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: rawBody },
);

export interface FuzzCounts {
  cases: number;
  byStatus: Record<string, number>;
  /** Bodies (first 300 characters) that answered 5xx, did not serialise, or a 4xx without a field. */
  failures: Array<{ status: number; problem: string; body: string }>;
}

export function enrichDepsForFuzz(over: Partial<EnrichDeps> = {}): EnrichDeps {
  const now = () => new Date('2026-11-20T12:00:00Z');
  return { enricher: createEnricher({ now }), tuning: parseTuning({ organisation: { domains: ['contoso.com'] } }), maxBodyBytes: 1_048_576, maxJsonDepth: 64, deadlineMs: 20_000, now, ...over };
}

/** Checks one answer; undefined when it is fine. */
export function answerProblem(status: number, jsonBody: unknown): string | undefined {
  if (status >= 500) return `HTTP ${status}`;
  let text: string;
  try {
    text = JSON.stringify(jsonBody);
  } catch (err) {
    return `the answer does not serialise: ${(err as Error).message}`;
  }
  if (status >= 400) {
    const body = JSON.parse(text) as { problems?: Array<{ path?: unknown }>; field?: unknown };
    const named = body.problems?.some((p) => typeof p.path === 'string') || typeof body.field === 'string';
    if (!named) return `HTTP ${status} without the field it is about`;
  }
  return undefined;
}

export async function fuzzEnrich(options: { numRuns: number; seed: number; deps?: EnrichDeps }): Promise<FuzzCounts> {
  const handler = makeEnrichHandler(() => options.deps ?? enrichDepsForFuzz());
  const counts: FuzzCounts = { cases: 0, byStatus: {}, failures: [] };
  const context = new InvocationContext({ functionName: 'enrich', invocationId: 'fuzz', logHandler: () => {} });
  await fc.assert(
    fc.asyncProperty(enrichRequestBody, async (body) => {
      counts.cases++;
      let status: number;
      let jsonBody: unknown;
      try {
        const res = await handler(new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/enrich', body: { string: body } }), context);
        status = res.status ?? 200;
        jsonBody = res.jsonBody;
      } catch (err) {
        status = 599;
        jsonBody = { thrown: (err as Error).message };
      }
      counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
      const problem = answerProblem(status, jsonBody);
      if (problem && counts.failures.length < 20) counts.failures.push({ status, problem: `${problem} ${JSON.stringify(jsonBody)?.slice(0, 200)}`, body: body.slice(0, 300) });
      return true;
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: false },
  );
  return counts;
}
