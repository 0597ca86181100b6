/** A KV binding that counts reads (`get`), for tests asserting what authentication costs. */
export function countingKv(kv: KVNamespace) {
  const counter = { reads: 0 };
  const binding = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "get") {
        return (...args: unknown[]) => {
          counter.reads++;
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
