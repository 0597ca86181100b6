/**
 * D1 tables. Every row that belongs to a customer account carries `tenant_id`, and every index a tenant query
 * touches starts with it, so one tenant's rows are never scanned on behalf of another.
 *
 * No foreign keys on purpose: when drizzle-kit rebuilds a table it emits `PRAGMA foreign_keys=OFF`, which D1
 * ignores inside a migration, so an `ON DELETE CASCADE` would silently delete child rows during a schema change.
 * Offboarding purges a tenant's rows explicitly in one batch instead (db/tenants.ts).
 *
 * Times are epoch milliseconds (INTEGER) throughout: cheap to compare, index and range-scan.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  azureAdEnabled: integer("azure_ad_enabled", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** One row while a tenant has the Azure AD (Entra ID) provisioning integration set up. */
export const integrations = sqliteTable("integrations", {
  tenantId: text("tenant_id").primaryKey(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Access tokens, by SHA-256 hash only. A token works while `status = 'active'`, `expires_at` is in the future and
 * `revoked_at` is null or in the future (a rotation grace period). The cron moves rows to `expired`/`revoked`.
 */
export const accessTokens = sqliteTable(
  "access_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    status: text("status", { enum: ["active", "revoked", "expired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    revokeReason: text("revoke_reason"),
    lastUsedAt: integer("last_used_at"),
    expiryWarnedAt: integer("expiry_warned_at"),
    /** When housekeeping deleted the KV entry of this ended token once more (null: not yet). */
    kvSweptAt: integer("kv_swept_at"),
  },
  (t) => [
    uniqueIndex("access_tokens_hash_idx").on(t.tokenHash),
    index("access_tokens_tenant_idx").on(t.tenantId, t.status),
    index("access_tokens_status_expiry_idx").on(t.status, t.expiresAt),
    index("access_tokens_unswept_idx").on(t.status, t.kvSweptAt),
  ],
);

/**
 * Users of an account, whoever manages them. `data` is the SCIM resource exactly as stored (without id/meta);
 * `folded` is the same document with every case-insensitive string case-folded in the worker, because SQLite's
 * lower()/NOCASE/LIKE fold ASCII only. The `*_key` columns are folded copies of what Entra matches on, indexed.
 */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    userName: text("user_name").notNull(),
    userNameKey: text("user_name_key").notNull(),
    externalId: text("external_id"),
    displayNameKey: text("display_name_key"),
    workEmailKey: text("work_email_key"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    managedBy: text("managed_by", { enum: ["portal", "azure-ad"] }).notNull(),
    data: text("data").notNull(),
    folded: text("folded").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_tenant_user_name_idx").on(t.tenantId, t.userNameKey),
    // Non-unique match keys end with the list order (created_at, id): without it SQLite satisfies ORDER BY by
    // scanning the tenant's created-at index instead, which grows with the tenant (measured: BENCHMARKS.md).
    index("users_tenant_external_id_order_idx").on(t.tenantId, t.externalId, t.createdAt, t.id),
    index("users_tenant_work_email_order_idx").on(t.tenantId, t.workEmailKey, t.createdAt, t.id),
    index("users_tenant_display_name_order_idx").on(t.tenantId, t.displayNameKey, t.createdAt, t.id),
    index("users_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("users_tenant_updated_idx").on(t.tenantId, t.updatedAt),
  ],
);

/** Groups of an account. Like users: the document without members, its folded copy, indexed folded keys. */
export const groups = sqliteTable(
  "groups",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    displayName: text("display_name").notNull(),
    displayNameKey: text("display_name_key").notNull(),
    externalId: text("external_id"),
    data: text("data").notNull(),
    folded: text("folded").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("groups_tenant_display_name_idx").on(t.tenantId, t.displayNameKey),
    index("groups_tenant_external_id_order_idx").on(t.tenantId, t.externalId, t.createdAt, t.id),
    index("groups_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
  ],
);

/**
 * Memberships, one row each, so adding or removing a member touches one row whatever the group's size. The
 * primary key serves "members of a group"; the second index serves "groups of a user" and user deletion.
 */
export const groupMembers = sqliteTable(
  "group_members",
  {
    tenantId: text("tenant_id").notNull(),
    groupId: text("group_id").notNull(),
    memberId: text("member_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.groupId, t.memberId] }),
    index("group_members_member_idx").on(t.tenantId, t.memberId, t.groupId),
  ],
);

/** Who did what, newest first by id. `actor` is `admin`, `cron` or `token:<tokenId>`. */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_events_tenant_idx").on(t.tenantId, t.id)],
);

/**
 * SCIM requests that failed, without bodies, so an operator can diagnose a quarantined Entra job. A bounded log per
 * tenant: identical failures (same fingerprint) aggregate into one row (`count`, `first_at` … `at`), and a tenant's
 * oldest rows give way once it holds the maximum.
 */
export const failedRequests = sqliteTable(
  "failed_requests",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    at: integer("at").notNull(),
    tokenId: text("token_id"),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    scimType: text("scim_type"),
    detail: text("detail"),
    fingerprint: text("fingerprint"),
    count: integer("count").notNull().default(1),
    firstAt: integer("first_at"),
  },
  (t) => [
    index("failed_requests_tenant_idx").on(t.tenantId, t.id),
    index("failed_requests_at_idx").on(t.at),
    index("failed_requests_fingerprint_idx").on(t.tenantId, t.fingerprint),
  ],
);
