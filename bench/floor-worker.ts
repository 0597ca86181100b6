/**
 * The benchmark floor: the least a Worker can do per request in the same local runtime, one D1 row by primary
 * key. Every SCIM operation is reported as a ratio of this. `/static` answers without touching D1, to separate
 * the runtime's own cost from the local D1 simulator's. `/bound` first makes the two platform calls every
 * authenticated SCIM request makes besides its own row, the tenant's rate limit and the token's grant from KV, with
 * nothing of ours around them: the least an authenticated, rate-limited read can cost here. `/bound/write` makes
 * the same calls, then writes one row (a counter in a table of its own) instead of reading one: the least such a
 * write can cost.
 */
interface FloorEnv {
  DB: D1Database;
  GRANTS: KVNamespace;
  LIMITER: RateLimit;
}

export default {
  async fetch(request: Request, env: FloorEnv) {
    const url = new URL(request.url);
    if (url.pathname === "/static") return new Response("ok");
    const bound = url.pathname === "/bound" || url.pathname === "/bound/write";
    if (bound) {
      const { success } = await env.LIMITER.limit({ key: "floor" });
      if (!success) return new Response("rate limited", { status: 429 });
      if ((await env.GRANTS.get(FLOOR_GRANT_KEY, "json")) === null) return new Response("no grant", { status: 401 });
    }
    const id = url.searchParams.get("id");
    if (id === null) return new Response("?id= is required", { status: 400 });
    if (url.pathname === "/bound/write") {
      await env.DB.prepare(
        "INSERT INTO floor_writes (id, n) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1 RETURNING n",
      )
        .bind(id)
        .first();
      return new Response(null, { status: 204 });
    }
    const row = await env.DB.prepare("SELECT id, data FROM users WHERE id = ?").bind(id).first();
    return row ? Response.json(row) : new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<FloorEnv>;

/** The key `/bound` reads; the benchmark writes a grant-sized value there before measuring. */
const FLOOR_GRANT_KEY = "floor-grant";
