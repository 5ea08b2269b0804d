/** Whether haystack contains needle, ignoring case (issuer names, free-ACME fragments). */
export function includesFold(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}
