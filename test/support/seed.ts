import { env } from "cloudflare:workers";
import { fold } from "../../src/scim/fold";
import { dbFor, placementOf, tenantDb } from "./databases";

/**
 * Rows straight into D1, bypassing the API, for states the API cannot produce (a token that ended months ago, a
 * row written by an older schema): into the control database or the data database of the first row's tenant. Keys
 * are column names; one batch, so the rows land together.
 */
export async function seedRows(table: string, rows: Record<string, unknown>[]) {
  const db = await dbFor(table, String(rows[0]?.tenant_id ?? ""));
  await db.batch(
    rows.map((row) => {
      const columns = Object.keys(row);
      return db
        .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
        .bind(...Object.values(row));
    }),
  );
}

/**
 * A group of `size` users straight into D1 in one batch (a recursive CTE, not `size` statements): scale tests need
 * groups far larger than the API lets one request build. Users are `<groupId>-u<n>`.
 */
export async function seedGroup(tenantId: string, groupId: string, size: number) {
  const now = Date.now();
  const db = await tenantDb(tenantId);
  await db.batch([
    db
      .prepare(
        `INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at)
       VALUES (?1, ?2, ?1, ?1, json_object('displayName', ?1), json_object('displayName', ?1), ?3, ?3)`,
      )
      .bind(groupId, tenantId, now),
    db
      .prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?3)
       INSERT INTO users (id, tenant_id, user_name, user_name_key, managed_by, data, folded, created_at, updated_at)
       SELECT ?1 || '-u' || n, ?2, ?1 || '-u' || n, ?1 || '-u' || n, 'azure-ad',
         json_object('userName', ?1 || '-u' || n), json_object('userName', ?1 || '-u' || n), ?4, ?4 FROM seq`,
      )
      .bind(groupId, tenantId, size, now),
    db
      .prepare(
        `INSERT INTO group_members (tenant_id, group_id, member_id, created_at)
       SELECT ?2, ?1, id, ?3 FROM users WHERE tenant_id = ?2 AND id LIKE ?1 || '-u%'`,
      )
      .bind(groupId, tenantId, now),
  ]);
}

/** One user in `count` groups (`<userId>-g<n>`), in one batch. */
export async function seedMemberOf(tenantId: string, userId: string, count: number) {
  const now = Date.now();
  const db = await tenantDb(tenantId);
  await db.batch([
    db
      .prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?3)
       INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at)
       SELECT ?1 || '-g' || n, ?2, ?1 || '-g' || n, ?1 || '-g' || n,
         json_object('displayName', ?1 || '-g' || n), json_object('displayName', ?1 || '-g' || n), ?4, ?4 FROM seq`,
      )
      .bind(userId, tenantId, count, now),
    db
      .prepare(
        `INSERT INTO group_members (tenant_id, group_id, member_id, created_at)
       SELECT ?2, id, ?1, ?3 FROM groups WHERE tenant_id = ?2 AND id LIKE ?1 || '-g%'`,
      )
      .bind(userId, tenantId, now),
  ]);
}

export interface SeededUser {
  id: string;
  userName: string;
  /** The work email, which the directory search also matches. */
  email?: string;
  createdAt: number;
}

/** Users straight into D1 in one statement (one JSON parameter), keyed as the API would key them. */
export async function seedUsers(tenantId: string, users: SeededUser[]) {
  const rows = users.map(({ id, userName, email, createdAt }) => {
    const doc = { userName, ...(email === undefined ? {} : { emails: [{ type: "work", value: email }] }) };
    const data = JSON.stringify(doc);
    return { id, userName, userNameKey: fold(userName), emailKey: email && fold(email), data, createdAt };
  });
  const db = await tenantDb(tenantId);
  await db
    .prepare(
      `INSERT INTO users (id, tenant_id, user_name, user_name_key, work_email_key, managed_by, data, folded,
         created_at, updated_at)
       SELECT value->>'id', ?1, value->>'userName', value->>'userNameKey', value->>'emailKey', 'azure-ad',
         value->>'data', lower(value->>'data'), value->>'createdAt', value->>'createdAt'
       FROM json_each(?2)`,
    )
    .bind(tenantId, JSON.stringify(rows))
    .run();
}

/**
 * `count` live tokens of the tenant and their KV grants, as a tenant could hold them before rotations were bounded
 * (every earlier token kept through its grace period): ids `<tenantId>-t<n>`, hashes `hash-<id>`, created a
 * millisecond apart in that order. Returns their hashes.
 */
export async function seedLiveTokens(tenantId: string, count: number) {
  const now = Date.now();
  const expiresAt = now + 86_400_000;
  await env.DB.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?2)
     INSERT INTO access_tokens (id, tenant_id, token_hash, status, created_at, expires_at)
     SELECT ?1 || '-t' || n, ?1, 'hash-' || ?1 || '-t' || n, 'active', ?3 - ?2 + n, ?4 FROM seq`,
  )
    .bind(tenantId, count, now, expiresAt)
    .run();
  const database = await placementOf(tenantId);
  const hashes = Array.from({ length: count }, (_, i) => `hash-${tenantId}-t${i + 1}`);
  await Promise.all(
    hashes.map((hash, i) =>
      env.TOKENS.put(
        `token:${hash}`,
        JSON.stringify({ tenantId, tokenId: `${tenantId}-t${i + 1}`, expiresAt, database }),
      ),
    ),
  );
  return hashes;
}
