import { and, asc, count, eq, gt, inArray, isNotNull, isNull, lte, sql } from "drizzle-orm";
import type { ControlDb } from "./client";
import { integrationSecrets, integrations, tenants } from "./schema";

/** Client secrets an integration may have live at once: enough to rotate without a gap, few enough to keep track of. */
export const MAX_LIVE_SECRETS = 3;

export type SecretRow = typeof integrationSecrets.$inferSelect;

const liveAt = (now: number) => gt(integrationSecrets.expiresAt, now);

/**
 * An OAuth client as authentication needs it, from D1 (the record KV caches, tokens/client-grants.ts): its integration and
 * that one's state, the tenant's data database, and its live secrets. Null when the client is unknown, its
 * integration removed, or its tenant switched off or deleted. One round trip.
 */
export async function findClient(db: ControlDb, clientId: string, now: number) {
  const [[found], secrets] = await db.batch([
    db
      .select({
        tenantId: integrations.tenantId,
        integrationId: integrations.id,
        pausedAt: integrations.pausedAt,
        takesOverFrom: integrations.takesOverFrom,
        federation: integrations.federation,
        database: tenants.database,
      })
      .from(integrations)
      .innerJoin(tenants, eq(tenants.id, integrations.tenantId))
      .where(and(eq(integrations.clientId, clientId), eq(tenants.azureAdEnabled, true), isNull(tenants.deletedAt))),
    db
      .select({
        id: integrationSecrets.id,
        hash: integrationSecrets.secretHash,
        expiresAt: integrationSecrets.expiresAt,
      })
      .from(integrationSecrets)
      .innerJoin(
        integrations,
        and(
          eq(integrations.tenantId, integrationSecrets.tenantId),
          eq(integrations.id, integrationSecrets.integrationId),
        ),
      )
      .where(and(eq(integrations.clientId, clientId), liveAt(now))),
  ]);
  return found ? { ...found, secrets } : null;
}

/** The client ids of the tenant's OAuth integrations (one, or all): whose cached state a change must refresh. */
export async function clientIdsOf(db: ControlDb, tenantId: string, integrationId?: string) {
  const rows = await db
    .select({ clientId: integrations.clientId })
    .from(integrations)
    .where(
      and(
        eq(integrations.tenantId, tenantId),
        integrationId === undefined ? undefined : eq(integrations.id, integrationId),
        isNotNull(integrations.clientId),
      ),
    );
  return rows.flatMap((row) => (row.clientId === null ? [] : [row.clientId]));
}

/** The integration's secrets, live and expired, newest first. */
export const listSecrets = (db: ControlDb, tenantId: string, integrationId: string) =>
  db
    .select()
    .from(integrationSecrets)
    .where(and(eq(integrationSecrets.tenantId, tenantId), eq(integrationSecrets.integrationId, integrationId)))
    .orderBy(sql`${integrationSecrets.createdAt} DESC`, asc(integrationSecrets.id));

/** Every secret of the tenant's integrations, newest first (the status page groups them by integration). */
export const listTenantSecrets = (db: ControlDb, tenantId: string) =>
  db
    .select({
      id: integrationSecrets.id,
      integrationId: integrationSecrets.integrationId,
      createdAt: integrationSecrets.createdAt,
      expiresAt: integrationSecrets.expiresAt,
    })
    .from(integrationSecrets)
    .where(eq(integrationSecrets.tenantId, tenantId))
    .orderBy(sql`${integrationSecrets.createdAt} DESC`, asc(integrationSecrets.id));

/** Live secrets of the integration, as a count in SQL (for conditions the writing statement checks itself). */
const liveSecrets = (tenantId: string, integrationId: string, now: number, except?: string) =>
  sql`(SELECT count(*) FROM ${integrationSecrets} WHERE tenant_id = ${tenantId} AND integration_id = ${integrationId}
    AND expires_at > ${now}${except === undefined ? sql`` : sql` AND id != ${except}`})`;

/**
 * A new secret, only while the integration is an OAuth client's and has fewer than MAX_LIVE_SECRETS live (checked
 * by the statement: concurrent additions cannot pass the bound together). RETURNING its id when it was added.
 */
export function insertSecret(row: Omit<SecretRow, "expiryWarnedAt">) {
  return sql`INSERT INTO ${integrationSecrets} (id, tenant_id, integration_id, secret_hash, created_at, expires_at)
    SELECT ${row.id}, ${row.tenantId}, ${row.integrationId}, ${row.secretHash}, ${row.createdAt}, ${row.expiresAt}
    WHERE EXISTS (SELECT 1 FROM ${integrations} WHERE tenant_id = ${row.tenantId} AND id = ${row.integrationId}
        AND client_id IS NOT NULL)
      AND ${liveSecrets(row.tenantId, row.integrationId, row.createdAt)} < ${MAX_LIVE_SECRETS}
    RETURNING id`;
}

/**
 * A secret that may be deleted: the integration's, and expired or not its last live one (the directory would be
 * locked out; delete the integration instead). As a condition, for the delete and for its record read before it.
 */
export const secretDeletable = (tenantId: string, integrationId: string, secretId: string, now: number) =>
  sql`EXISTS (SELECT 1 FROM ${integrationSecrets} WHERE tenant_id = ${tenantId} AND integration_id = ${integrationId}
      AND id = ${secretId} AND (expires_at <= ${now} OR ${liveSecrets(tenantId, integrationId, now, secretId)} > 0))`;

/** Deletes the secret if it may be (secretDeletable); RETURNING its id when it was deleted. */
export const deleteSecret = (tenantId: string, integrationId: string, secretId: string, now: number) =>
  sql`DELETE FROM ${integrationSecrets} WHERE id = ${secretId} AND ${secretDeletable(tenantId, integrationId, secretId, now)}
    RETURNING id`;

/** Every secret of the tenant's integrations, or of one: revoked with the integration's tokens. */
export const deleteSecretsOf = (tenantId: string, integrationId?: string) =>
  sql`DELETE FROM ${integrationSecrets} WHERE tenant_id = ${tenantId}${
    integrationId === undefined ? sql`` : sql` AND integration_id = ${integrationId}`
  }`;

/** Live secrets entering the warning window that have not been warned about yet. */
const secretToWarn = (now: number, windowMs: number) =>
  and(
    isNull(integrationSecrets.expiryWarnedAt),
    gt(integrationSecrets.expiresAt, now),
    lte(integrationSecrets.expiresAt, now + windowMs),
  );

/** Secrets to warn about, the soonest to expire first. */
export const secretsToWarn = (db: ControlDb, now: number, windowMs: number, limit: number) =>
  db
    .select()
    .from(integrationSecrets)
    .where(secretToWarn(now, windowMs))
    .orderBy(asc(integrationSecrets.expiresAt))
    .limit(limit);

/** How many secrets are due a warning (housekeeping's backlog). */
export const countSecretsToWarn = (db: ControlDb, now: number, windowMs: number) =>
  db.select({ n: count() }).from(integrationSecrets).where(secretToWarn(now, windowMs));

/** Marks the secrets `ids` as warned, those still due a warning only. */
export const markSecretsWarned = (db: ControlDb, ids: string[], now: number, windowMs: number) =>
  db
    .update(integrationSecrets)
    .set({ expiryWarnedAt: now })
    .where(and(inArray(integrationSecrets.id, ids), secretToWarn(now, windowMs)));

/** `WHERE …` for a warning's audit row and event: only while the secret is still due it. */
export const whileSecretUnwarned = (id: string, now: number, windowMs: number) =>
  sql`WHERE EXISTS (SELECT 1 FROM ${integrationSecrets}
    WHERE ${and(eq(integrationSecrets.id, id), secretToWarn(now, windowMs))})`;
