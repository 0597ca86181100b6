import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import {
  accessMarks,
  accessTokens,
  auditEvents,
  customAttributes,
  eventFeeds,
  events,
  failedRequests,
  groupMembers,
  groups,
  integrationSecrets,
  integrations,
  portalLinks,
  portalSessions,
  quotaDefaults,
  relayOutbox,
  roleMappings,
  roles,
  tenantCopies,
  tenantFences,
  tenantMoves,
  tenantQuotas,
  tenantRoleMappings,
  tenants,
  users,
  webhookBacklogs,
  webhookCursors,
  webhookDeliveries,
  webhookEndpoints,
} from "./schema";

/**
 * The table registry: every table of the schema, once, with what each part of the service must do with its rows.
 * Deletion's purge, a move's copy, verification and totals, retention, the export and the tests' snapshots all
 * read their lists from here, and test/tables.test.ts compares the registry with the migrated schema: a table a
 * migration adds and nobody registers fails the suite by name, and so does a fence or quota trigger the registry
 * promises and the database lacks (or the other way round).
 *
 * A rule that does not apply says why not (`{ not: "…" }`), so every new table makes its author answer each
 * question instead of inheriting a silent default.
 */
export interface Not {
  not: string;
}

/** How a move brings a data table's rows to the target database (db/tenant-copy.ts). */
export type CopyRule =
  /**
   * Key-range chunks while writes go on, caught up from the feed: a mutable table's chunk replaces its key range,
   * an append-only table's is appended under its cursor. `unique`: another key unique within the tenant, which a
   * stale target row may hold. `renumber`: the target numbers the rows itself (per-database autoincrement ids).
   * `size`: the columns whose text makes a row large, so a chunk stops at a byte budget too.
   */
  | { kind: "chunks"; rows: number; unique?: string; renumber?: boolean; size?: readonly string[] }
  /** Brought over whole inside the window, the source being fenced (finishingStatements names how, per table). */
  | { kind: "at_switch"; renumber?: boolean };

/** What a move's verification compares of a data table before the switch. */
export type VerifyRule =
  /**
   * (key, values) of every row, page by page, chained into a SHA-256 per side; together the `values` change with
   * every write (the version with every SCIM write; the owner with a takeover, which keeps the version: db/takeover.ts).
   */
  | { kind: "fingerprint"; values: readonly string[] }
  /** Row counts, within `scope`: the rows both sides must hold (retention runs on each side by itself). */
  | { kind: "count"; scope: "all" | "retained_feed" | "retained_audit" }
  /**
   * Every stored column of every row (a renumbered id left out), in key order, hashed: a small table whose rows are
   * rewritten in place, so neither a count nor a version would see a change.
   */
  | { kind: "digest" }
  /** The tenant's quota counters (kept by the triggers of the counted tables), and its own limits. */
  | { kind: "counters" }
  /** The feed's purge mark: the target's at least the source's. */
  | { kind: "mark" };

/**
 * Kept for a fixed time and purged by housekeeping: the tenant's history, which the history quota counts through
 * triggers `<table>_history_insert`/`_delete` (and `_update` on a table whose rows change; migrations/0018).
 * `refuses`: its insert trigger refuses growth past the limit (the feed's, per event type); `counts`: never refuses.
 */
type HistoryRule = { purgedBy: "occurred_at" | "at"; quota: "refuses" | "counts" };

interface Common {
  table: SQLiteTable;
  /**
   * The column naming the tenant a row belongs to (`id` for the tenants themselves), or why the rows are no
   * tenant's. Snapshots and isolation checks read a tenant's rows by it.
   */
  tenant: string | Not;
  /** Deleted with the tenant (services/tenant-deletion.ts), or why not. */
  purge: true | Not;
}

/** A table of the control database: the deployment, its tenants and what is theirs there. */
interface ControlTable extends Common {
  role: "control";
}

/** A table of every data database: tenants' directories, their history and their counters. */
export interface DataTable extends Common {
  role: "data";
  /** The order a keyset walk takes within the tenant: columns that never change once a row exists. */
  key: readonly string[];
  /** Rows change after they are written (rather than only ever being appended, then purged). */
  mutable: boolean;
  copy: CopyRule | Not;
  verify: VerifyRule | Not;
  /** Writes of a fenced tenant's rows are refused by `<table>_fence_insert`/`_update` (migrations/0014). */
  fence: boolean | Not;
  /**
   * `counted`: triggers `<table>_quota_*` count the rows into tenant_quotas and refuse growth past a limit;
   * `counters`: the table those triggers write (a purge empties it first, so its deletes have nothing to count).
   */
  quota: "counted" | "counters" | Not;
  history: HistoryRule | Not;
  /** What the directory export (services/export.ts) writes of the table. */
  export: "resources" | "members" | Not;
}

/** A table every database holds with the same rows: the deployment's settings that triggers read locally. */
interface EverywhereTable extends Common {
  role: "everywhere";
}

export type TableSpec = ControlTable | DataTable | EverywhereTable;

// `const` type parameters keep each entry's literal rules, which the narrowed name types below are computed from.
const control = <const S extends Omit<ControlTable, "role">>(spec: S) => ({ role: "control" as const, ...spec });
const data = <const S extends Omit<DataTable, "role">>(spec: S) => ({ role: "data" as const, ...spec });

const deploymentWide = { not: "the deployment's, no tenant's" };

/**
 * Data tables are listed in purge order: a purge's batch empties them in this order, the counters first so the
 * deletes after them have nothing to count. A move copies them in this order too.
 */
export const TABLES = {
  tenants: control({ table: tenants, tenant: "id", purge: true }),
  integrations: control({ table: integrations, tenant: "tenant_id", purge: true }),
  access_tokens: control({ table: accessTokens, tenant: "tenant_id", purge: true }),
  integration_secrets: control({ table: integrationSecrets, tenant: "tenant_id", purge: true }),
  relay_outbox: control({ table: relayOutbox, tenant: "tenant_id", purge: true }),
  role_mappings: control({ table: roleMappings, tenant: "tenant_id", purge: true }),
  portal_links: control({ table: portalLinks, tenant: "tenant_id", purge: true }),
  portal_sessions: control({ table: portalSessions, tenant: "tenant_id", purge: true }),
  tenant_moves: control({ table: tenantMoves, tenant: "tenant_id", purge: true }),
  webhook_cursors: control({ table: webhookCursors, tenant: "tenant_id", purge: true }),
  webhook_backlogs: control({ table: webhookBacklogs, tenant: "tenant_id", purge: true }),
  webhook_endpoints: control({ table: webhookEndpoints, tenant: deploymentWide, purge: { not: "the vendor's" } }),
  webhook_deliveries: control({
    table: webhookDeliveries,
    tenant: "tenant_id",
    purge: {
      not: "the vendor's delivery log: retention purges it by age, and what a deleted tenant owed is cancelled",
    },
  }),
  quota_defaults: {
    role: "everywhere",
    table: quotaDefaults,
    tenant: deploymentWide,
    purge: { not: "no tenant's" },
  } as EverywhereTable,
  roles: {
    role: "everywhere",
    table: roles,
    tenant: deploymentWide,
    purge: { not: "the vendor's" },
  } as EverywhereTable,
  // The control database's alone: a mapping carries the types the data's SQL reads.
  custom_attributes: control({ table: customAttributes, tenant: deploymentWide, purge: { not: "the vendor's" } }),

  tenant_quotas: data({
    table: tenantQuotas,
    tenant: "tenant_id",
    key: ["tenant_id"],
    mutable: true,
    purge: true,
    copy: { kind: "at_switch" },
    verify: { kind: "counters" },
    fence: { not: "written only by the counted tables' triggers, which the fence stops first" },
    quota: "counters",
    history: { not: "current state" },
    export: { not: "limits are the vendor's settings, shown by the admin API" },
  }),
  users: data({
    table: users,
    tenant: "tenant_id",
    key: ["created_at", "id"],
    mutable: true,
    purge: true,
    copy: { kind: "chunks", rows: 200, unique: "user_name_key", size: ["data", "folded"] },
    // `access` changes with a group's membership or a mapping, `attributes` with a mapping, the version with the
    // user's own document only.
    verify: { kind: "fingerprint", values: ["version", "managed_by", "access", "attributes"] },
    fence: true,
    quota: "counted",
    history: { not: "current state" },
    export: "resources",
  }),
  groups: data({
    table: groups,
    tenant: "tenant_id",
    key: ["created_at", "id"],
    mutable: true,
    purge: true,
    copy: { kind: "chunks", rows: 200, unique: "display_name_key", size: ["data", "folded"] },
    verify: { kind: "fingerprint", values: ["version", "managed_by"] },
    fence: true,
    quota: "counted",
    history: { not: "current state" },
    export: "resources",
  }),
  group_members: data({
    table: groupMembers,
    tenant: "tenant_id",
    key: ["group_id", "member_id"],
    mutable: true,
    purge: true,
    copy: { kind: "chunks", rows: 1000 },
    verify: { kind: "fingerprint", values: [] },
    fence: true,
    quota: "counted",
    history: { not: "current state" },
    export: "members",
  }),
  events: data({
    table: events,
    tenant: "tenant_id",
    key: ["sequence"],
    mutable: false,
    purge: true,
    copy: { kind: "chunks", rows: 200, size: ["resource", "data"] },
    verify: { kind: "count", scope: "retained_feed" },
    fence: true,
    quota: { not: "history, not directory data: the history quota's (history.quota)" },
    history: { purgedBy: "occurred_at", quota: "refuses" },
    export: { not: "the feed is read through its own API" },
  }),
  event_feeds: data({
    table: eventFeeds,
    tenant: "tenant_id",
    key: ["tenant_id"],
    mutable: true,
    purge: true,
    copy: { kind: "at_switch" },
    verify: { kind: "mark" },
    fence: { not: "written by retention, which goes on in a fenced source" },
    quota: { not: "one row per tenant" },
    history: { not: "the feed's purge mark, not history" },
    export: { not: "the feed's own state" },
  }),
  audit_events: data({
    table: auditEvents,
    tenant: "tenant_id",
    key: ["id"],
    mutable: false,
    purge: true,
    copy: { kind: "chunks", rows: 500, renumber: true, size: ["detail"] },
    verify: { kind: "count", scope: "retained_audit" },
    fence: true,
    quota: { not: "history, not directory data: the history quota's (history.quota)" },
    history: { purgedBy: "at", quota: "counts" },
    export: { not: "read through the audit API" },
  }),
  tenant_role_mappings: data({
    table: tenantRoleMappings,
    tenant: "tenant_id",
    key: ["integration_id"],
    mutable: true,
    purge: true,
    copy: { kind: "at_switch" },
    verify: { kind: "digest" },
    fence: true,
    quota: { not: "one row per integration" },
    history: { not: "settings" },
    export: { not: "the vendor's settings, read through the admin API" },
  }),
  access_marks: data({
    table: accessMarks,
    tenant: "tenant_id",
    key: ["user_id"],
    mutable: true,
    purge: { not: "empty between batches" },
    copy: { not: "emptied by the batch that fills it" },
    verify: { not: "empty between batches" },
    fence: { not: "emptied by the batch that fills it, whose other writes the fence refuses" },
    quota: { not: "empty between batches" },
    history: { not: "scratch" },
    export: { not: "scratch" },
  }),
  failed_requests: data({
    table: failedRequests,
    tenant: "tenant_id",
    key: ["id"],
    mutable: true,
    purge: true,
    copy: { kind: "at_switch", renumber: true },
    verify: { kind: "digest" },
    fence: true,
    quota: { not: "history, not directory data: the history quota's (history.quota)" },
    history: { purgedBy: "at", quota: "counts" },
    export: { not: "diagnostics, read through the logs API" },
  }),
  tenant_fences: data({
    table: tenantFences,
    tenant: "tenant_id",
    key: ["tenant_id"],
    mutable: true,
    purge: { not: "the fence outlives the purge of a moved tenant, until the tenant moves back" },
    copy: { not: "a database's own refusal of a tenant it no longer serves" },
    verify: { not: "not copied" },
    fence: { not: "the fence itself" },
    quota: { not: "one row per moved tenant" },
    history: { not: "state" },
    export: { not: "the service's own bookkeeping" },
  }),
  tenant_copies: data({
    table: tenantCopies,
    tenant: "tenant_id",
    key: ["tenant_id"],
    mutable: true,
    purge: { not: "a move's record in its target, ended by the move (endCopy)" },
    copy: { not: "the copy's own record" },
    verify: { not: "not copied" },
    fence: { not: "written by the move's steps only" },
    quota: { not: "one row per move" },
    history: { not: "state" },
    export: { not: "the service's own bookkeeping" },
  }),
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;

type DataTableName = { [N in TableName]: (typeof TABLES)[N] extends DataTable ? N : never }[TableName];
type Matching<Field extends keyof DataTable, Value> = {
  [N in DataTableName]: (typeof TABLES)[N][Field] extends Value ? N : never;
}[DataTableName];

/** Data tables a move copies in chunks, and those it brings over inside the window. */
export type ChunkedTable = Matching<"copy", { kind: "chunks" }>;
export type AtSwitchTable = Matching<"copy", { kind: "at_switch" }>;
export type FingerprintedTable = Matching<"verify", { kind: "fingerprint" }>;
export type CountedTable = Matching<"verify", { kind: "count" }>;
export type DigestedTable = Matching<"verify", { kind: "digest" }>;
export type ExportedResources = Matching<"export", "resources">;
/** History purged by its `at` column (db/retention.ts); the feed has its own purge. */
export type TimedLog = Matching<"history", { purgedBy: "at" }>;
/** The tables holding a tenant's rows. */
export type TenantTable = { [N in TableName]: (typeof TABLES)[N]["tenant"] extends string ? N : never }[TableName];

const entries = Object.entries(TABLES) as [TableName, TableSpec][];

export const isNot = (value: unknown): value is Not => typeof value === "object" && value !== null && "not" in value;

/** The data tables, in registry (purge, copy) order, with their names. */
export const DATA_TABLES = entries.flatMap(([name, spec]) => (spec.role === "data" ? [{ name, ...spec }] : []));

/** `value` is `pattern`, or holds each of its fields. */
const matches = (value: unknown, pattern: unknown): boolean =>
  typeof pattern === "object" && pattern !== null
    ? typeof value === "object" &&
      value !== null &&
      Object.entries(pattern).every(([k, v]) => (value as Record<string, unknown>)[k] === v)
    : value === pattern;

/**
 * The data tables whose `field` matches `pattern` (a value, or some of an object's fields), in registry order,
 * typed as exactly those names: the run-time filter and the type are read off the same (field, pattern).
 */
export function dataTablesWith<F extends keyof DataTable, const P>(field: F, pattern: P) {
  return DATA_TABLES.filter((t) => matches(t[field], pattern)).map((t) => t.name as Matching<F, P>);
}

/** A table's tenant column, when its rows are a tenant's. */
const tenantColumn = (spec: TableSpec) => (isNot(spec.tenant) ? [] : [spec.tenant]);

/** A tenant's data tables a deletion purges, in purge order (the counters first), with their tenant column. */
export const PURGED_DATA_TABLES = DATA_TABLES.filter((t) => t.purge === true)
  .sort((a, b) => Number(b.quota === "counters") - Number(a.quota === "counters"))
  .flatMap((t) => tenantColumn(t).map((column) => ({ ...t, column })));

/** A tenant's control tables a deletion purges; the tenant's own row goes last (it marks the deletion). */
export const PURGED_CONTROL_TABLES = entries
  .filter(([, spec]) => spec.role === "control" && spec.purge === true)
  .sort(([a], [b]) => Number(a === "tenants") - Number(b === "tenants"))
  .flatMap(([name, spec]) => tenantColumn(spec).map((column) => ({ name, column })));

/** Every table holding a tenant's rows, and the column that names the tenant. */
export const TENANT_COLUMNS = Object.fromEntries(
  entries.flatMap(([name, spec]) => tenantColumn(spec).map((column) => [name, column])),
) as Record<TenantTable, string>;
