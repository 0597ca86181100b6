/**
 * D1 tables. Every row that belongs to a customer account carries `tenant_id`, and every index a tenant query
 * touches starts with it, so one tenant's rows are never scanned on behalf of another.
 *
 * Every database has this one schema (one migration set), in one of two roles (src/db/databases.ts): the control
 * database (binding DB) holds the deployment and its tenants: `tenants`, `integrations`, `access_tokens`,
 * `relay_outbox`, the webhook tables and the portal's; a data database holds tenants' directories: `users`,
 * `groups`, `group_members`, `audit_events`, `failed_requests`, `events`, `event_feeds` and the quota tables. A
 * tenant's directory lives in the data database `tenants.database` names. The control database is also a data
 * database (named DB), which is where tenants created before the split keep their directories.
 *
 * No foreign keys on purpose: when drizzle-kit rebuilds a table it emits `PRAGMA foreign_keys=OFF`, which D1
 * ignores inside a migration, so an `ON DELETE CASCADE` would silently delete child rows during a schema change.
 * Offboarding purges a tenant's rows explicitly instead, in bounded steps (services/tenant-deletion.ts).
 *
 * Times are epoch milliseconds (INTEGER) throughout: cheap to compare, index and range-scan.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { MOVE_PHASES } from "../moves/phases";
import type { Federation } from "../oauth/federation";
import { AUTHENTICATION_METHODS, LEGACY_INTEGRATION_ID, PROVIDER_IDS, type Provider } from "../scim/providers";

/**
 * What a stored document takes for the bytes quota: the UTF-8 bytes of the document and of its case-folded copy.
 * Virtual (computed when read, never stored), for the quota triggers.
 */
const documentBytes = () =>
  integer("document_bytes").generatedAlwaysAs(sql`length(CAST(data AS BLOB)) + length(CAST(folded AS BLOB))`, {
    mode: "virtual",
  });

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Whether the tenant may provision from directories at all (`integrationsEnabled`, alias `azureAdEnabled`). */
    azureAdEnabled: integer("azure_ad_enabled", { mode: "boolean" }).notNull().default(false),
    /** The providers its integrations may be (JSON array); null: every provider. */
    allowedProviders: text("allowed_providers", { mode: "json" }).$type<Provider[]>(),
    /** Email domains the tenant has verified (JSON array): adoption by email only within them, when there are any. */
    verifiedDomains: text("verified_domains", { mode: "json" }).$type<string[]>(),
    /**
     * The data database holding the tenant's directory (a binding name). The default is the control database's own
     * name: where every tenant created before data databases existed keeps its data.
     */
    database: text("database").notNull().default("DB"),
    /** Set when the tenant is deleted: it is gone for every reader, while its data is purged in chunks. */
    deletedAt: integer("deleted_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("tenants_database_idx").on(t.database, t.deletedAt),
    // Housekeeping's walk over unfinished deletions, oldest first.
    index("tenants_deleted_idx").on(t.deletedAt),
  ],
);

/**
 * Audit rows and events of control-plane changes (integration, tokens, tenant settings), on their way to the
 * tenant's data database: written in the batch of the change they record (so one exists exactly when the change
 * does), applied to the data database by the relay (services/relay.ts) and then deleted. `id` is the event id the
 * entry becomes, and the key that makes applying it twice a no-op (audit_events.relay_id).
 */
export const relayOutbox = sqliteTable(
  "relay_outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type"),
    resourceId: text("resource_id"),
    detail: text("detail"),
    /** The event the change emits (null: an audit row only) and its payload (JSON text). */
    eventType: text("event_type"),
    eventData: text("event_data"),
    /** A change to the tenant's data that goes with it (JSON, services/relay.ts RelayEffect), or null. */
    effect: text("effect"),
  },
  (t) => [index("relay_outbox_tenant_idx").on(t.tenantId)],
);

/**
 * A tenant's directory connections (src/scim/providers.ts), each with its own SCIM base URL and tokens. The one
 * every tenant had before there could be several is `azure-ad` (LEGACY_INTEGRATION_ID), migrated in place.
 */
export const integrations = sqliteTable(
  "integrations",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    provider: text("provider", { enum: PROVIDER_IDS as [Provider, ...Provider[]] }).notNull(),
    name: text("name").notNull(),
    authentication: text("authentication", { enum: AUTHENTICATION_METHODS }).notNull().default("bearer"),
    /**
     * The OAuth client id of an integration whose directory authenticates at the token endpoint (client credentials,
     * workload identity federation); null for bearer tokens. Unique across the deployment: the token endpoint is one.
     */
    clientId: text("client_id"),
    /**
     * Workload identity federation's trust (oauth/federation.ts): the issuer, subject and audience the customer's
     * admin copied from Entra, normalised, the issuer's tenant and the JWKS URL. Null for any other authentication.
     */
    federation: text("federation", { mode: "json" }).$type<Federation>(),
    /** While set, the integration's writes are refused with a retryable status; its credentials keep working. */
    pausedAt: integer("paused_at"),
    /** The integration whose users and groups this one takes over as its sync matches them (a move between IdPs). */
    takesOverFrom: text("takes_over_from"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex("integrations_client_id_idx").on(t.clientId)],
);

/**
 * The client secrets of an OAuth client-credentials integration, by SHA-256 hash only (a secret is 256 random bits
 * and a MAC: no salt or stretching needed). Several may be live at once, so a customer rotates without a gap; each
 * expires (1–3 years), and none is used once expired.
 */
export const integrationSecrets = sqliteTable(
  "integration_secrets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    integrationId: text("integration_id").notNull(),
    secretHash: text("secret_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** When housekeeping announced the coming expiry (`secret.expiring_soon`), once. */
    expiryWarnedAt: integer("expiry_warned_at"),
  },
  (t) => [
    index("integration_secrets_integration_idx").on(t.tenantId, t.integrationId, t.expiresAt),
    index("integration_secrets_expiry_idx").on(t.expiresAt),
  ],
);

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
    /** When this ended token's KV entry was deleted once more: by housekeeping, or its tenant's deletion. */
    kvSweptAt: integer("kv_swept_at"),
    /** The integration whose SCIM base URL the token opens (tokens from before integrations: the legacy one). */
    integrationId: text("integration_id").notNull().default(LEGACY_INTEGRATION_ID),
    /**
     * Why an OAuth integration has a bearer token at all: `validation`, for Microsoft's gallery validation run (it
     * sends a static bearer token beside its OAuth test). Null: the integration's own token.
     */
    purpose: text("purpose", { enum: ["validation"] }),
  },
  (t) => [
    uniqueIndex("access_tokens_hash_idx").on(t.tokenHash),
    // A tenant's live tokens (status and expiry): with expiry in this index the planner never prefers scanning every
    // tenant's live tokens through the status/expiry index housekeeping uses.
    index("access_tokens_tenant_idx").on(t.tenantId, t.status, t.expiresAt),
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
    /** `portal` (the product's own user) or the id of the integration that manages it. */
    managedBy: text("managed_by").notNull(),
    /** When a SCIM write took this portal user over (null for users Entra created); cleared when handed back. */
    adoptedAt: integer("adopted_at"),
    data: text("data").notNull(),
    folded: text("folded").notNull(),
    documentBytes: documentBytes(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * What the user may do in the vendor's product (db/access.ts): the vendor's roles its groups and app roles map to
     * (or the default role), highest first, each with what grants it, as JSON `[{ key, sources }]`. Written in the
     * batch of every change that alters it, beside the SCIM document and never inside it; null: none.
     */
    access: text("access"),
    /**
     * The vendor's custom attributes as the integration's attribute mapping computes them from `data` (db/access.ts),
     * as JSON `{ values: { key: value | null }, errors: [{ key, path, reason, found }] }`, in the batch of every write of the
     * user; null: the user's integration maps none.
     */
    attributes: text("attributes"),
  },
  (t) => [
    uniqueIndex("users_tenant_user_name_idx").on(t.tenantId, t.userNameKey),
    // Non-unique match keys end with the list order (created_at, id): without it SQLite satisfies ORDER BY by
    // scanning the tenant's created-at index instead, which grows with the tenant (measured: BENCHMARKS.md).
    index("users_tenant_external_id_order_idx").on(t.tenantId, t.externalId, t.createdAt, t.id),
    index("users_tenant_work_email_order_idx").on(t.tenantId, t.workEmailKey, t.createdAt, t.id),
    index("users_tenant_display_name_order_idx").on(t.tenantId, t.displayNameKey, t.createdAt, t.id),
    // The list order, and what a directory's scope reads of each row (db/scope.ts: who manages it, its address):
    // a list's OFFSET walk and its count stay inside this index instead of reading every row they pass.
    index("users_tenant_created_scope_idx").on(t.tenantId, t.createdAt, t.id, t.managedBy, t.userNameKey),
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
    /** The integration that manages it (groups only ever come from a directory). */
    managedBy: text("managed_by").notNull().default(LEGACY_INTEGRATION_ID),
    data: text("data").notNull(),
    folded: text("folded").notNull(),
    documentBytes: documentBytes(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // displayName is unique per integration: two directories may each have their "Engineering".
    uniqueIndex("groups_tenant_integration_display_name_idx").on(t.tenantId, t.managedBy, t.displayNameKey),
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

/**
 * Who did what, newest first by id. `actor` is `admin`, `cron` or `token:<tokenId>`. Kept for a fixed time
 * (housekeeping purges older rows on the `at` index), so a busy tenant's log cannot grow without end.
 */
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
    /** The relay_outbox entry this row came from (control-plane changes): applying an entry twice writes it once. */
    relayId: text("relay_id"),
  },
  (t) => [
    uniqueIndex("audit_events_relay_idx").on(t.relayId),
    index("audit_events_tenant_idx").on(t.tenantId, t.id),
    index("audit_events_at_idx").on(t.at),
    // A user's or group's history on its page, newest first, without walking the tenant's whole log.
    index("audit_events_resource_idx").on(t.tenantId, t.resourceId, t.id),
  ],
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
    /** The integration whose endpoint was called; null in rows from before integrations: the legacy one. */
    integrationId: text("integration_id"),
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
    // A tenant's failures of a window (the integrations page, the console's tenant list) read the window's rows
    // only, not every row the tenant's log keeps.
    index("failed_requests_tenant_at_idx").on(t.tenantId, t.at),
    index("failed_requests_at_idx").on(t.at),
    index("failed_requests_fingerprint_idx").on(t.tenantId, t.fingerprint),
  ],
);

/**
 * What a tenant's directory data takes, and the limits it may not grow past. The counters are kept by triggers on
 * users, groups and group_members (migrations/0007_quota_triggers.sql), inside the statement that writes the row,
 * so they cannot drift from the data and cost no query of their own; the same triggers refuse a write that grows a
 * count past its limit, which fails the whole batch. A row appears with the tenant's first user or group.
 * `max_*` null: the deployment's default (quota_defaults). It lives in the database of the data it counts (the
 * triggers can reach nothing else), so when a tenant's data moves to another database, this row moves with it.
 *
 * Triggers live outside this file (drizzle-kit does not model them) and a table rebuild by drizzle-kit drops them:
 * test/quotas.test.ts fails if any is missing after the migrations.
 */
export const tenantQuotas = sqliteTable("tenant_quotas", {
  tenantId: text("tenant_id").primaryKey(),
  userCount: integer("user_count").notNull().default(0),
  groupCount: integer("group_count").notNull().default(0),
  storedBytes: integer("stored_bytes").notNull().default(0),
  /**
   * The history quota's usage, in two counters (migrations/0018): the change feed's rows, and the audit and
   * failed-request logs'. Two, so that counting an event never re-enters the signal trigger while the multi-row
   * INSERT that numbered it is still running (the trigger writes events of its own).
   */
  feedBytes: integer("feed_bytes").notNull().default(0),
  logBytes: integer("log_bytes").notNull().default(0),
  maxUsers: integer("max_users"),
  maxGroups: integer("max_groups"),
  maxBytes: integer("max_bytes"),
  maxHistoryBytes: integer("max_history_bytes"),
  /** The level (80 or 95 %) of each quota already signalled by a `quota.threshold_reached` event, as JSON. */
  signalled: text("signalled").notNull().default("{}"),
  /**
   * The tenant's verified domains (tenants.verified_domains, relayed here like the limits): a directory adopts the
   * product's user by email only within them, when there are any. JSON array; null: none, no restriction.
   */
  verifiedDomains: text("verified_domains", { mode: "json" }).$type<string[]>(),
});

/** The deployment's default limits, one row (id 1); null: no limit. Set through the admin API. */
/**
 * The vendor's roles, the deployment's (every database holds the same rows: the access statements of a tenant's
 * writes read them locally). `priority` orders them, 0 the highest: a user's primary role is its highest.
 * `customerMappable`: the customer's admin may map groups to it in the portal (not owner or support roles).
 */
export const roles = sqliteTable("roles", {
  key: text("key").primaryKey(),
  name: text("name").notNull(),
  description: text("description"),
  customerMappable: integer("customer_mappable", { mode: "boolean" }).notNull().default(true),
  priority: integer("priority").notNull(),
});

/**
 * The vendor's custom attributes, the deployment's, in the control database only: fields of the product a tenant's
 * attribute mapping fills from its directory. `type` is what a value must be (db/access.ts reports one that is not
 * in the user's attribute errors; a mapping carries the type it was made with, which is what the data's SQL reads);
 * `priority` is their order in lists.
 */
export const customAttributes = sqliteTable("custom_attributes", {
  key: text("key").primaryKey(),
  type: text("type", { enum: ["string", "boolean", "number"] }).notNull(),
  description: text("description"),
  priority: integer("priority").notNull(),
});

/**
 * One integration's mapping of its directory to the vendor's product (db/access.ts): its groups and app roles to the
 * vendor's roles, and its attributes to the vendor's custom attributes. One version covers both.
 */
const roleMappingColumns = {
  tenantId: text("tenant_id").notNull(),
  integrationId: text("integration_id").notNull(),
  /** Starts at 1, one more with every change: the `If-Match` of a change and the preview's basis. */
  version: integer("version").notNull(),
  /** The role of a user no mapped source grants any (null: none). */
  defaultRole: text("default_role"),
  /** JSON `[{ groupId } | { scimRole }, role]` pairs as `{ groupId?, scimRole?, role }`, in the order given. */
  items: text("items").notNull(),
  /**
   * JSON `[{ key, path, from }]`: the custom attribute `key` is the value at the SCIM path `path`, which `from`
   * locates in the stored document (scim/attribute-paths.ts compiles it), in the order given.
   */
  attributes: text("attributes").notNull().default("[]"),
  updatedAt: integer("updated_at").notNull(),
};

/** The role mappings as the vendor and the customer set them: the control database's record, relayed to the data. */
export const roleMappings = sqliteTable("role_mappings", roleMappingColumns, (t) => [
  primaryKey({ columns: [t.tenantId, t.integrationId] }),
]);

/** The role mappings where the access statements of the tenant's writes read them: relayed from role_mappings. */
export const tenantRoleMappings = sqliteTable("tenant_role_mappings", roleMappingColumns, (t) => [
  primaryKey({ columns: [t.tenantId, t.integrationId] }),
]);

/**
 * The users a write is about to change the access of (db/access.ts): filled and emptied within the batch of that
 * write, so that users a write takes out of a group are still known after it did. Empty between batches.
 */
export const accessMarks = sqliteTable(
  "access_marks",
  { tenantId: text("tenant_id").notNull(), userId: text("user_id").notNull() },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] })],
);

export const quotaDefaults = sqliteTable("quota_defaults", {
  id: integer("id").primaryKey(),
  maxUsers: integer("max_users"),
  maxGroups: integer("max_groups"),
  maxBytes: integer("max_bytes"),
  maxHistoryBytes: integer("max_history_bytes"),
});

/**
 * The change feed (transactional outbox): one row per provisioning change, written in the same batch as the change,
 * so an event exists exactly when its change committed. `sequence` counts a tenant's events from 1 without gaps in
 * commit order; it is the pull API's cursor and stays valid when the tenant's rows move to another database.
 * `resource` is a snapshot of the user or group as stored (rendered as SCIM when read); `data` the rest of the
 * payload. Kept for the retention period, purged by housekeeping on the `occurred_at` index.
 */
export const events = sqliteTable(
  "events",
  {
    tenantId: text("tenant_id").notNull(),
    sequence: integer("sequence").notNull(),
    id: text("id").notNull(),
    type: text("type").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    resource: text("resource"),
    data: text("data").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.sequence] }),
    uniqueIndex("events_id_idx").on(t.id),
    index("events_tenant_type_idx").on(t.tenantId, t.type, t.sequence),
    index("events_occurred_idx").on(t.occurredAt),
  ],
);

/**
 * A tenant's feed beyond its rows: the highest sequence retention has purged, so numbering continues after a purge
 * emptied the feed and a cursor from before it is recognised as expired.
 */
export const eventFeeds = sqliteTable("event_feeds", {
  tenantId: text("tenant_id").primaryKey(),
  purgedThrough: integer("purged_through").notNull().default(0),
});

/**
 * How far webhooks have fanned each tenant's feed out into deliveries (sequences are taken in commit order). In the
 * control database with the deliveries, so recording deliveries and moving the cursor is one batch.
 */
export const webhookCursors = sqliteTable("webhook_cursors", {
  tenantId: text("tenant_id").primaryKey(),
  fannedOutThrough: integer("fanned_out_through").notNull().default(0),
});

/**
 * Where the change feed is pushed: an HTTPS endpoint, the events and tenants it wants (null: all), and its signing
 * secret sealed with WEBHOOK_SECRETS_KEY (src/webhooks/secrets.ts), the previous one too while a rotation's grace
 * period lasts. `origin` is where events' SCIM locations point: the origin the endpoint was registered through.
 */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  origin: text("origin").notNull(),
  secret: text("secret").notNull(),
  previousSecret: text("previous_secret"),
  previousSecretUntil: integer("previous_secret_until"),
  eventTypes: text("event_types", { mode: "json" }).$type<string[]>(),
  tenantIds: text("tenant_ids", { mode: "json" }).$type<string[]>(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** First failed attempt of the current run of failures: an endpoint failing for days is disabled. */
  failingSince: integer("failing_since"),
  /** The latest failed attempt: a run of failures ends with a success, or after a quiet day. */
  lastFailureAt: integer("last_failure_at"),
  lastSuccessAt: integer("last_success_at"),
  disabledAt: integer("disabled_at"),
  disabledReason: text("disabled_reason"),
  /**
   * The endpoint is owed the events that occurred (`events.occurred_at`) at or after this instant: its registration,
   * or its return to service. A tenant's fan-out cursor moves only while some endpoint takes the tenant, so this,
   * not the cursor, is what keeps an endpoint from being owed the past.
   */
  owedFrom: integer("owed_from").notNull().default(0),
  /** For a tenant the endpoint began to take later (added to `tenantIds`): from when, by tenant id. */
  owedFromByTenant: text("owed_from_by_tenant", { mode: "json" }).$type<Record<string, number>>(),
});

/**
 * One event owed to one endpoint, with its attempts (the last few, as JSON) and where it stands. Keyed by the
 * event's place in its tenant's feed, so a fan-out that runs twice owes it once.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    endpointId: text("endpoint_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    sequence: integer("sequence").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    state: text("state", { enum: ["pending", "retrying", "succeeded", "failed", "dead", "cancelled"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    log: text("log", { mode: "json" }).$type<DeliveryAttempt[]>().notNull(),
    nextAttemptAt: integer("next_attempt_at"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * Set on the delivery that tells the endpoint events were coalesced (webhooks/skipped.ts): it stands at the
     * first sequence left out and covers the feed through this one.
     */
    skippedThrough: integer("skipped_through"),
  },
  (t) => [
    primaryKey({ columns: [t.endpointId, t.tenantId, t.sequence] }),
    // Listing an endpoint's deliveries newest first: rowid order within each index, all of them or by state.
    index("webhook_deliveries_endpoint_idx").on(t.endpointId),
    index("webhook_deliveries_endpoint_state_idx").on(t.endpointId, t.state),
    index("webhook_deliveries_due_idx").on(t.state, t.nextAttemptAt),
    index("webhook_deliveries_created_idx").on(t.createdAt),
    // A tenant's recent deliveries (the console's delivery health): its own rows, not the window's of every tenant.
    index("webhook_deliveries_tenant_created_idx").on(t.tenantId, t.createdAt),
  ],
);

/**
 * What an endpoint owes one tenant, so an endpoint that is down cannot accumulate deliveries without bound: `owed`,
 * its deliveries pending or retrying (kept exact by triggers on webhook_deliveries, migrations/0020), and the gap
 * the fan-out opened once `owed` reached the cap: the feed after `coalesced_after` through `coalesced_through`,
 * `coalesced` events recorded for nobody since `coalesced_since` (null: no gap open). One delivery tells the
 * endpoint of the gap once it has room again.
 */
export const webhookBacklogs = sqliteTable(
  "webhook_backlogs",
  {
    tenantId: text("tenant_id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    owed: integer("owed").notNull().default(0),
    coalescedAfter: integer("coalesced_after"),
    coalescedThrough: integer("coalesced_through"),
    coalesced: integer("coalesced").notNull().default(0),
    coalescedSince: integer("coalesced_since"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.endpointId] }),
    // An endpoint's backlogs in tenant order (the admin API's page of them).
    index("webhook_backlogs_endpoint_idx").on(t.endpointId, t.tenantId),
  ],
);

/** One attempt at a delivery, as the delivery log shows it. */
export interface DeliveryAttempt {
  at: number;
  /** HTTP status, or null when no response came (timeout, connection refused). */
  status: number | null;
  latencyMs: number;
  /** A short excerpt of the response body or the error. */
  error?: string;
}

/**
 * Single-use setup links for the customer's portal, by the SHA-256 of their secret (the secret itself is only in
 * the URL handed to the vendor). Redeeming one sets `used_at` and names the session it started, in one conditional
 * statement, so two redemptions of the same link cannot both succeed.
 */
export const portalLinks = sqliteTable(
  "portal_links",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    /** The id of the session the redemption started. */
    sessionId: text("session_id"),
    /** Where the customer goes back to in the vendor's product; checked against PORTAL_RETURN_ORIGINS. */
    returnUrl: text("return_url"),
  },
  (t) => [index("portal_links_tenant_idx").on(t.tenantId), index("portal_links_expires_idx").on(t.expiresAt)],
);

/**
 * A portal session, by the SHA-256 of the cookie's value: a customer's, which only ever reaches its own tenant, or an
 * operator's (the console, signed in with the admin key), which has no tenant.
 */
export const portalSessions = sqliteTable(
  "portal_sessions",
  {
    id: text("id").primaryKey(),
    /** The customer's tenant; null for an operator's session. */
    tenantId: text("tenant_id"),
    role: text("role", { enum: ["customer", "operator"] })
      .notNull()
      .default("customer"),
    /**
     * An operator's session: the SHA-256 of the way it was opened, the admin key or the Cloudflare Access identity
     * (src/http/console/session.ts). The session works only while a request comes the same way: rotating a leaked key
     * ends the sessions opened with it, and one person's session is no other's.
     */
    keyDigest: text("key_digest"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
    returnUrl: text("return_url"),
  },
  (t) => [index("portal_sessions_tenant_idx").on(t.tenantId), index("portal_sessions_expires_idx").on(t.expiresAt)],
);

/**
 * A tenant's move from one data database to another (services/tenant-move.ts), in the control database: one row per
 * tenant, the latest move, kept when it has ended so GET /admin/tenants/{id} can say how it went. `phase` is where
 * the move stands; `state` whether its steps run (`running`), or stopped after repeated failures (`failed`) until
 * an operator resumes or rolls it back. A step runs only while it holds the lease, so two deliveries of the same
 * queue message never work on one move at once.
 */
export const tenantMoves = sqliteTable(
  "tenant_moves",
  {
    tenantId: text("tenant_id").primaryKey(),
    source: text("source").notNull(),
    target: text("target").notNull(),
    phase: text("phase", { enum: MOVE_PHASES }).notNull(),
    state: text("state", { enum: ["running", "failed"] }).notNull(),
    /** The source's feed position when the copy started: every change after it is caught up from the feed. */
    startSequence: integer("start_sequence"),
    /** The feed position the target has caught up to. */
    caughtUpThrough: integer("caught_up_through"),
    /**
     * Rows copied so far, per table (JSON), for GET /admin/tenants/{id}; after the switch also `grantsThrough`, how far
     * the phase's rewrite of the token grants has got (the last token's creation time).
     */
    progress: text("progress", { mode: "json" }).$type<Record<string, number>>().notNull(),
    verification: text("verification", { mode: "json" }).$type<Record<string, unknown>>(),
    attempts: integer("attempts").notNull().default(0),
    /**
     * Windows (switching) that ended without a switch since the last switch attempt succeeded: the move stops as
     * failed after a few, rather than taking the tenant's data away again every retry for a fault that stays.
     */
    windowFailures: integer("window_failures").notNull().default(0),
    error: text("error"),
    /** The step holding the move (a random id) and until when; a step renews it while it works. */
    lease: text("lease"),
    leaseUntil: integer("lease_until"),
    startedAt: integer("started_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    fencedAt: integer("fenced_at"),
    switchedAt: integer("switched_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("tenant_moves_phase_idx").on(t.state, t.phase)],
);

/**
 * Tenants this data database no longer serves (their data moved, or is being switched away): every write of their
 * rows is refused by triggers, and every request routed here refuses itself through the probe (db/fence.ts), so a
 * request that a cached token grant still sends here answers 503 instead of reading or writing stale data. The row
 * stays after the tenant's rows are purged, until the tenant moves back here.
 */
export const tenantFences = sqliteTable("tenant_fences", {
  tenantId: text("tenant_id").primaryKey(),
  movedTo: text("moved_to").notNull(),
  fencedAt: integer("fenced_at").notNull(),
});

/**
 * A move's copy in its target data database: how far each table's copy has got (JSON: table → its last key), written
 * in the same batch as the rows it covers, so a step that failed after writing never copies a chunk twice. `holder`
 * is the lease of the step allowed to write the copy (every copy write is conditional on it), then `switched`: a step
 * overtaken after its lease expired can write nothing, before the switch or after it.
 */
export const tenantCopies = sqliteTable("tenant_copies", {
  tenantId: text("tenant_id").primaryKey(),
  source: text("source").notNull(),
  holder: text("holder"),
  cursors: text("cursors", { mode: "json" }).$type<Record<string, unknown[] | "done">>().notNull(),
});
