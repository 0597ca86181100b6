import { env } from "cloudflare:workers";

/**
 * Rows straight into D1, bypassing the API, for states the API cannot produce (a token that ended months ago, a
 * row written by an older schema). Keys are column names; one batch, so the rows land together.
 */
export async function seedRows(table: string, rows: Record<string, unknown>[]) {
  await env.DB.batch(
    rows.map((row) => {
      const columns = Object.keys(row);
      return env.DB.prepare(
        `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      ).bind(...Object.values(row));
    }),
  );
}
