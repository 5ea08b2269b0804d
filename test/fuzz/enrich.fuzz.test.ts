import { describe, expect, it } from 'vitest';
import { fuzzEnrich } from './enrich-fuzz.js';

describe('POST /api/enrich under property-based fuzzing (fixed seed)', () => {
  it('3,000 hostile requests: no 5xx, every answer serialises, every 4xx names its field', async () => {
    const counts = await fuzzEnrich({ numRuns: 3_000, seed: 0x5ec13 });
    expect(counts.failures).toEqual([]);
    expect(counts.cases).toBe(3_000);
  }, 120_000);
});
