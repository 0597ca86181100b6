/**
 * A KV binding that counts reads (`get`), for tests asserting what authentication costs, and writes (`put`) and
 * deletes, for tests asserting what a change to the grants costs: how many, in how many rounds (a call that starts
 * while none is in flight), and how many at most were in flight at once.
 */
export function countingKv(kv: KVNamespace) {
  const zero = { reads: 0, writes: 0, deletes: 0, rounds: 0, mostAtOnce: 0 };
  const counter = { ...zero };
  let inFlight = 0;
  const counted: Record<string, "reads" | "writes" | "deletes"> = { get: "reads", put: "writes", delete: "deletes" };
  const binding = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      const kind = typeof prop === "string" ? counted[prop] : undefined;
      if (kind) {
        return async (...args: unknown[]) => {
          counter[kind]++;
          if (inFlight++ === 0) counter.rounds++;
          counter.mostAtOnce = Math.max(counter.mostAtOnce, inFlight);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            inFlight--;
          }
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: binding as KVNamespace, counter, reset: () => Object.assign(counter, zero) };
}

/** A KV binding whose `ops` fail the way KV's do when it is unavailable; everything else reaches `kv`. */
export function failingKv(kv: KVNamespace, ops: ("put" | "delete")[]) {
  return new Proxy(kv, {
    get(target, prop) {
      const op = ops.find((o) => o === prop);
      if (op) {
        return async () => {
          throw new Error(`KV ${op.toUpperCase()} failed: 503 Service Unavailable`);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as KVNamespace;
}
