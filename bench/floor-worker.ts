/**
 * The benchmark floor: the least a Worker can do per request in the same local runtime, one D1 row by primary
 * key. Every SCIM operation is reported as a ratio of this. `/static` answers without touching D1, to separate
 * the runtime's own cost from the local D1 simulator's.
 */
export default {
  async fetch(request: Request, env: { DB: D1Database }) {
    const url = new URL(request.url);
    if (url.pathname === "/static") return new Response("ok");
    const id = url.searchParams.get("id");
    const row = await env.DB.prepare("SELECT id, data FROM users WHERE id = ?").bind(id).first();
    return row ? Response.json(row) : new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<{ DB: D1Database }>;
