/**
 * The benchmark floor: the least a Worker can do per request in the same local runtime, one D1 row by primary
 * key. Every SCIM operation is reported as a ratio of this.
 */
export default {
  async fetch(request: Request, env: { DB: D1Database }) {
    const id = new URL(request.url).searchParams.get("id");
    const row = await env.DB.prepare("SELECT id, data FROM users WHERE id = ?").bind(id).first();
    return row ? Response.json(row) : new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<{ DB: D1Database }>;
