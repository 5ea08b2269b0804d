import { z } from 'zod';

/** A ThreatAggregate as a queue message carries it (shared/model.ts), checked at the queue boundary. */
const sourceCount = z.object({ name: z.string(), count: z.number().int().min(1) });

export const threatAggregateSchema = z.object({
  key: z.string().min(1),
  id: z.string().min(1),
  occurrences: z.number().int().min(1),
  firstSeen: z.string().min(1),
  lastSeen: z.string().min(1),
  sources: z.object({
    hosts: z.array(sourceCount),
    accounts: z.array(sourceCount),
    hostsOmitted: z.number().int().min(0),
    accountsOmitted: z.number().int().min(0),
  }),
  withoutCertificate: z.number().int().min(0),
  rowsDigest: z.string().min(1),
  update: z
    .object({
      firstReportedAt: z.string(),
      newOccurrences: z.number().int().min(0),
      previousOccurrences: z.number().int().min(0),
      previousLastSeen: z.string(),
      newSources: z.array(z.string()),
      material: z.boolean(),
    })
    .optional(),
});
