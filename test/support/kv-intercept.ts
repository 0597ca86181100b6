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
