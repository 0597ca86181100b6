/**
 * Runs `task` on every item, at most `limit` at a time, and resolves once all have settled. Every item is tried
 * whatever fails, so one failed call neither stops the rest nor leaves some of them running after the caller moved
 * on; the first failure is then thrown.
 */
export async function eachAtMost<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>) {
  const failures: unknown[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) {
      await task(items[i] as T).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failures.length > 0) throw failures[0];
}
