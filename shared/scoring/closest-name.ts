/**
 * "Did you mean": the known name nearest to a typo, case-insensitively, when it is close enough
 * to be a typo (at most a third of the name's length away, and never more than `maxDistance`).
 */
export function closestName(name: string, known: readonly string[], maxDistance = Number.POSITIVE_INFINITY): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(maxDistance, Math.max(2, Math.floor(name.length / 3))) + 1;
  for (const candidate of known) {
    const d = typoDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours (weigths → weights is 1). */
export function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
