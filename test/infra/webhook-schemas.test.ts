import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTIVE_CARD_CONTENT_TYPE, ADAPTIVE_CARD_SCHEMA, teamsMessage } from '../../shared/delivery/card.js';
import { incidentJsonSchema } from '../../shared/delivery/incident-schema.js';
import { callsOf, descendants, infraDir, loadBicepFile, propertyKey, repoRoot, stringArguments } from './bicep-tree.js';

const read = (relative: string): string => readFileSync(path.join(repoRoot, relative), 'utf8');

/** triggerBody()?['a']?['b'] paths a workflow definition reads. */
function triggerBodyPaths(source: string): string[][] {
  const paths: string[][] = [];
  for (const m of source.matchAll(/triggerBody\(\)((?:\?\[\\'[^\\]+\\'\])+)/g)) {
    paths.push([...(m[1] ?? '').matchAll(/\[\\'([^\\]+)\\'\]/g)].map((k) => k[1] ?? ''));
  }
  return paths;
}

function schemaHasPath(schema: unknown, keys: string[]): boolean {
  let node = schema as Record<string, unknown> | undefined;
  for (const key of keys) {
    const properties = node?.properties as Record<string, unknown> | undefined;
    node = properties?.[key] as Record<string, unknown> | undefined;
    if (!node) return false;
  }
  return true;
}

type Schema = { type?: string | string[]; enum?: unknown[]; required?: string[]; properties?: Record<string, Schema>; items?: Schema; minItems?: number };

/** The few draft-04 keywords teams-message.schema.json uses, checked the way the trigger would. */
function schemaProblems(schema: Schema, value: unknown, at = '$'): string[] {
  const jsonType = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const types = schema.type === undefined ? undefined : [schema.type].flat();
  if (types && !types.includes(jsonType)) return [`${at}: expected ${types.join('|')}, got ${jsonType}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: not one of ${schema.enum.join(', ')}`];
  const problems: string[] = [];
  if (jsonType === 'object') {
    const object = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in object)) problems.push(`${at}.${r}: required`);
    for (const [k, sub] of Object.entries(schema.properties ?? {})) if (k in object) problems.push(...schemaProblems(sub, object[k], `${at}.${k}`));
  }
  if (jsonType === 'array') {
    const array = value as unknown[];
    if (schema.minItems !== undefined && array.length < schema.minItems) problems.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) array.forEach((item, i) => problems.push(...schemaProblems(schema.items as Schema, item, `${at}[${i}]`)));
  }
  return problems;
}

describe('webhook trigger schemas', () => {
  it('the incident schema file is the code\'s incident JSON Schema', () => {
    expect(JSON.parse(read('infra/schemas/incident-payload.schema.json'))).toEqual(incidentJsonSchema());
  });

  it('the incident Logic App\'s trigger schema is that file, and the fields the workflow reads are in it', () => {
    const file = loadBicepFile(path.join(infraDir, 'modules', 'logic-app-incident.bicep'));
    const schemaProperty = descendants(file.root, 'object_property').find((p) => propertyKey(p) === 'schema');
    expect(schemaProperty).toBeDefined();
    const loads = callsOf(schemaProperty!, 'loadJsonContent');
    expect(loads.map((c) => stringArguments(c)[0])).toEqual(['../schemas/incident-payload.schema.json']);
    const triggers = descendants(file.root, 'object_property').find((p) => propertyKey(p) === 'triggers');
    expect(triggers && descendants(triggers, 'object_property').some((p) => p === schemaProperty)).toBe(true);
    const schema = incidentJsonSchema();
    const paths = triggerBodyPaths(file.source);
    expect(paths.length).toBeGreaterThan(0);
    for (const keys of paths) expect(schemaHasPath(schema, keys), `triggerBody().${keys.join('.')} is not in the incident schema`).toBe(true);
  });

  it('the Teams Logic App accepts the Teams Workflows envelope the card is sent in', () => {
    const file = loadBicepFile(path.join(infraDir, 'modules', 'logic-app-teams.bicep'));
    const loads = callsOf(file.root, 'loadJsonContent').map((c) => stringArguments(c)[0]);
    expect(loads).toEqual(['../schemas/teams-message.schema.json']);
    const schema = JSON.parse(read('infra/schemas/teams-message.schema.json')) as Record<string, unknown>;
    const paths = triggerBodyPaths(file.source);
    expect(paths).toEqual([['attachments']]);
    for (const keys of paths) expect(schemaHasPath(schema, keys)).toBe(true);
    expect(schema.required).toEqual(['type', 'attachments']);
  });

  it('the Teams trigger schema accepts the envelope shared/delivery/card.ts sends, and nothing else', () => {
    const schema = JSON.parse(read('infra/schemas/teams-message.schema.json')) as Schema;
    const envelope = teamsMessage({ type: 'AdaptiveCard', $schema: ADAPTIVE_CARD_SCHEMA, version: '1.5', body: [] });
    expect(schemaProblems(schema, JSON.parse(JSON.stringify(envelope)))).toEqual([]);
    expect(schema.properties?.attachments?.items?.properties?.contentType?.enum).toEqual([ADAPTIVE_CARD_CONTENT_TYPE]);
    expect(schemaProblems(schema, { type: 'message', attachments: [] })).toEqual(['$.attachments: fewer than 1 items']);
    expect(schemaProblems(schema, { ...envelope, type: 'card' })).toEqual(['$.type: not one of message']);
  });
});
