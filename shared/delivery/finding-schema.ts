import { z } from 'zod';
import { problemsFromZod, ValidationError } from '../errors.js';
import type { Finding } from '../model.js';
import { withThreatFields } from '../threats/finding-fields.js';

/**
 * What delivery needs a finding to hold (queue messages, `certsoar card FILE`); the rest of
 * Finding is optional here, and unknown fields pass through.
 */
export const deliverableFindingSchema = z.looseObject({
  id: z.string().min(1),
  score: z.number(),
  level: z.enum(['Informational', 'Low', 'Medium', 'High']),
  reasons: z.array(z.looseObject({ id: z.string(), points: z.number(), reason: z.string() })),
  suppressedBy: z.looseObject({ rule: z.string(), reason: z.string() }).optional(),
  scoredAt: z.string(),
  hit: z.looseObject({
    detectionId: z.string().min(1),
    key: z.string(),
    time: z.string(),
    entities: z.looseObject({ domains: z.array(z.string()) }),
  }),
  enrichment: z.looseObject({
    missing: z.array(z.looseObject({ source: z.string(), reason: z.string() })),
    enrichedAt: z.string(),
  }),
  threatId: z.string().min(1).optional(),
  occurrences: z.number().int().min(1).optional(),
  firstSeen: z.string().optional(),
  lastSeen: z.string().optional(),
  sources: z
    .looseObject({
      hosts: z.array(z.object({ name: z.string(), count: z.number() })),
      accounts: z.array(z.object({ name: z.string(), count: z.number() })),
    })
    .optional(),
})
  // A finding written before threats existed (an old queue message, a saved file) stands for its one row.
  .transform((f) => withThreatFields(f as unknown as Finding));

export function parseDeliverableFinding(value: unknown, path = ''): Finding {
  const parsed = deliverableFindingSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError('not a finding', problemsFromZod(parsed.error.issues, path));
  return parsed.data;
}
