/** The first item whose key an earlier item has already (a list of keyed things that must be unique), if any. */
export function firstRepeatedKey<T extends { key: string }>(items: readonly T[]): string | undefined {
  const seen = new Set<string>();
  for (const { key } of items) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}
