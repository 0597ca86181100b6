/**
 * A KV binding that counts reads (`get`), for tests asserting what authentication costs, and writes (`put`) and
 * deletes, for tests asserting what a change to the grants costs.
 */
export function countingKv(kv: KVNamespace) {
  const counter = { reads: 0, writes: 0, deletes: 0 };
  const counted: Record<string, keyof typeof counter> = { get: "reads", put: "writes", delete: "deletes" };
  const binding = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      const kind = typeof prop === "string" ? counted[prop] : undefined;
      if (kind) {
        return (...args: unknown[]) => {
          counter[kind]++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: binding as KVNamespace, counter };
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
