import { z } from 'zod';
import { problemsFromZod, ValidationError } from '../errors.js';
import type { Finding } from '../model.js';

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
});

export function parseDeliverableFinding(value: unknown, path = ''): Finding {
  const parsed = deliverableFindingSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError('not a finding', problemsFromZod(parsed.error.issues, path));
  return parsed.data as unknown as Finding;
}
