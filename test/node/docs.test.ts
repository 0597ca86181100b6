// The published reference against the code. docs/limits.md is generated here from the constants that enforce each
// limit, so it cannot drift: a changed constant fails this test until `npm run docs:limits` rewrites the file. The
// admin error table in docs/api.md is prose, checked against the closed list of codes, and docs/events.md's table of
// event types against the event registry.

import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { expect, it } from "vitest";
import { RETRY_AFTER_SECONDS } from "../../src/app";
import { ATTRIBUTE_EVENT_BYTES, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_USERS_PER_EVENT } from "../../src/db/access";
import { MAX_AUDIT_DETAIL_BYTES, MAX_AUDIT_IDS } from "../../src/db/audit";
import { MAX_EVENT_PAGE_BYTES, MAX_MEMBERS_PER_EVENT } from "../../src/db/events";
import { RELEASE_CHUNK } from "../../src/db/relay";
import { EVENT_TYPES, EVENTS, type EventType } from "../../src/events/registry";
import { MAX_ATTRIBUTES } from "../../src/http/admin/attributes";
import { MAX_ROLES } from "../../src/http/admin/roles";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "../../src/http/admin/wire";
import { PAGE_RATE_LIMIT_PERIOD_SECONDS } from "../../src/http/pages/rate-limit";
import { MAX_BODY_BYTES } from "../../src/http/scim/body";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../src/http/scim/rate-limit";
import { ENTRA_MAPPINGS } from "../../src/scim/entra-mappings";
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS } from "../../src/scim/filter/parse";
import { MAX_MEMBERS_PER_REQUEST, MAX_MEMBERSHIPS_PER_RESPONSE } from "../../src/scim/groups";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../src/scim/paging";
import { MAX_PATCH_OPERATIONS } from "../../src/scim/patch";
import {
  MAX_BINARY_LENGTH,
  MAX_BODY_DEPTH,
  MAX_DOCUMENT_CHARS,
  MAX_EXTENSION_BYTES,
  MAX_EXTENSION_DEPTH,
  MAX_MULTI_VALUES,
  MAX_STRING_LENGTH,
} from "../../src/scim/resource-input";
import { MAX_ATTRIBUTE_PREVIEW_PAGE } from "../../src/services/attributes";
import { LAST_USED_RESOLUTION_MS, REFUSED_TOKEN_MEMORY_MS } from "../../src/services/authenticate";
import { ADMIN_ERROR_STATUS } from "../../src/services/errors";
import { DEFAULT_EVENT_PAGE, DEFAULT_EVENT_RETENTION_DAYS, MAX_EVENT_PAGE } from "../../src/services/events";
import { EXPORT_PAGE, EXPORT_PAGE_BYTES } from "../../src/services/export";
import {
  AUDIT_RETENTION_MS,
  EVENT_PURGE_BATCH,
  FAILED_REQUEST_RETENTION_MS,
  HOUSEKEEPING_BATCH_SIZE,
  HOUSEKEEPING_CRON,
  HOUSEKEEPING_SUBREQUEST_BUDGET,
  LOG_PURGE_BATCH,
  PORTAL_RETENTION_MS,
  TOKEN_METADATA_RETENTION_MS,
} from "../../src/services/housekeeping";
import {
  FAILURE_COALESCE_MS,
  MAX_DETAIL_LENGTH,
  MAX_FAILED_REQUEST_ROWS,
  MAX_LOGGED_PATH_LENGTH,
} from "../../src/services/logs";
import {
  DEFAULT_LINK_TTL_SECONDS,
  DEFAULT_SESSION_HOURS,
  MAX_LINK_TTL_SECONDS,
  MIN_LINK_TTL_SECONDS,
} from "../../src/services/portal";
import { MAX_WRITE_ATTEMPTS } from "../../src/services/preconditions";
import { GROUPS_ON_PAGE, MAX_APP_ROLE_LENGTH, MAX_MAPPING_ITEMS, MAX_PREVIEW_PAGE } from "../../src/services/roles";
import {
  defaultTokenTtl,
  EXPIRY_WARNING_MS,
  MAX_GRACE_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
} from "../../src/services/tokens";
import {
  DELIVERY_TIMEOUT_MS,
  DISABLE_AFTER_MS,
  FANOUT_PAGE,
  MAX_EXCERPT_CHARS,
  MAX_LOGGED_ATTEMPTS,
  MAX_OWED_PER_TENANT,
  SWEEP_AFTER_MS,
} from "../../src/services/webhook-delivery";
import { DEFAULT_SECRET_GRACE_SECONDS, MAX_SECRET_GRACE_SECONDS } from "../../src/services/webhooks";
import { GRANT_CHUNK, GRANT_CONCURRENCY, GRANTS_PER_REQUEST, REFILL_TTL_SECONDS } from "../../src/tokens/grants";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from "../../src/webhooks/schedule";
import { HISTORY_MODEL, modelledHistoryBytes } from "../support/history-model";

const n = (value: number) => value.toLocaleString("en-US");
function bytes(value: number) {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (value % size === 0) return `${n(value / size)} ${unit}`;
  }
  return `${n(value)} bytes`;
}
function duration(ms: number) {
  for (const [unit, size] of [
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
    ["second", 1000],
  ] as const) {
    if (ms % size === 0) return `${n(ms / size)} ${unit}${ms === size ? "" : "s"}`;
  }
  return `${n(ms)} ms`;
}

/** A rate-limit binding as wrangler.toml declares it (the one place it is configured). */
function rateLimit(name: string) {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  const block = toml.split("[[ratelimits]]").find((b) => b.includes(`name = "${name}"`));
  const match = block && /simple = \{ limit = (\d+), period = (\d+) \}/.exec(block);
  if (!match) throw new Error(`${name} not found in wrangler.toml`);
  return { limit: Number(match[1]), period: Number(match[2]) };
}

/** The deployment's default quotas on a fresh install, as the migrations that create them set them. */
function installedQuotaDefaults() {
  const read = (name: string) => readFileSync(new URL(`../../migrations/${name}.sql`, import.meta.url), "utf8");
  const match = /INSERT INTO `quota_defaults` \([^)]*\) VALUES \(1, (\d+), (\d+), (\d+)\)/.exec(
    read("0007_quota_triggers"),
  );
  const history = /SET `max_history_bytes` = (\d+)/.exec(read("0018_history_quota_triggers"));
  if (!match || !history) throw new Error("quota defaults not found in migrations 0007 and 0018");
  return {
    users: Number(match[1]),
    groups: Number(match[2]),
    bytes: Number(match[3]),
    historyBytes: Number(history[1]),
  };
}

type Row = [limit: string, value: string, whenExceeded: string];

function sections(): [string, Row[]][] {
  const rate = rateLimit("TENANT_RATE_LIMITER");
  const legacy = rateLimit("LEGACY_AUTH_LIMITER");
  const pages = rateLimit("PAGE_RATE_LIMITER");
  const quotas = installedQuotaDefaults();
  const refused = "`400` naming the quota (admin API: `403 quota_exceeded`); nothing written";
  return [
    [
      "SCIM requests",
      [
        ["Request body", bytes(MAX_BODY_BYTES), "`413`"],
        ["Request body nesting (arrays and objects)", `${n(MAX_BODY_DEPTH)} levels`, "`400 invalidValue`"],
        ["Operations per PATCH", n(MAX_PATCH_OPERATIONS), "`400 invalidSyntax`"],
        ["Filter length", `${n(MAX_FILTER_LENGTH)} characters`, "`400 invalidFilter`"],
        ["Filter nesting (parentheses, `not`, value paths)", n(MAX_FILTER_DEPTH), "`400 invalidFilter`"],
        ["Comparisons per filter", n(MAX_FILTER_TERMS), "`400 invalidFilter`"],
        ["Members named in one request (POST, PUT or PATCH)", n(MAX_MEMBERS_PER_REQUEST), "`400 invalidValue`"],
        ["Resources per page (`count`)", `${n(MAX_PAGE_SIZE)} (default ${n(DEFAULT_PAGE_SIZE)})`, "capped"],
        [
          "Memberships in one response (a group's `members`, a page's, a user's `groups`)",
          n(MAX_MEMBERSHIPS_PER_RESPONSE),
          "`400 tooMany` (use `excludedAttributes` or a smaller `count`)",
        ],
        ["Values of one multi-valued attribute", n(MAX_MULTI_VALUES), "`400 invalidValue`"],
        ["String attribute", `${n(MAX_STRING_LENGTH)} characters`, "`400 invalidValue`"],
        ["Binary attribute", `${n(MAX_BINARY_LENGTH)} characters`, "`400 invalidValue`"],
        [
          "Custom extension attribute",
          `${bytes(MAX_EXTENSION_BYTES)} of JSON, nested ${n(MAX_EXTENSION_DEPTH)} deep`,
          "`400 invalidValue`",
        ],
        ["Stored resource", `${n(MAX_DOCUMENT_CHARS)} characters of JSON`, "`400 invalidValue`"],
        [
          "Requests per tenant and Cloudflare location",
          `${n(rate.limit)} per ${rate.period} s (${n(rate.limit / rate.period)}/s sustained)`,
          `\`429\` with \`Retry-After\` (window of ${RATE_LIMIT_PERIOD_SECONDS} s)`,
        ],
        ["PATCH attempts when the resource changes concurrently", n(MAX_WRITE_ATTEMPTS), "`409`, retry"],
        ["Storage (D1, KV) unavailable", `Retry-After ${RETRY_AFTER_SECONDS} s`, "`503`, nothing changed"],
      ],
    ],
    [
      "Quotas per tenant (a fresh deployment's defaults; changed through the admin API)",
      [
        ["Users, portal users included", n(quotas.users), refused],
        ["Groups", n(quotas.groups), refused],
        [
          "Stored bytes (documents and their folded copies in UTF-8, 72 per membership)",
          bytes(quotas.bytes),
          `${refused}; deactivations always go through`,
        ],
        [
          "History (the change feed, audit and failed-request logs within retention, 256 bytes per row besides its text)",
          bytes(quotas.historyBytes),
          `${refused}; deactivations, deletions and member removals always go through`,
        ],
      ],
    ],
    [
      "Admin API",
      [
        [
          "Items per list page (`limit`)",
          `${n(MAX_LIST_LIMIT)} (default ${n(DEFAULT_LIST_LIMIT)})`,
          "`400 invalid_request`",
        ],
        [
          "Token lifetime (`ttlSeconds`)",
          `${duration(MIN_TOKEN_TTL_SECONDS * 1000)} to ${duration(MAX_TOKEN_TTL_SECONDS * 1000)} (default ${duration(defaultTokenTtl(undefined) * 1000)}, or \`TOKEN_DEFAULT_TTL_SECONDS\`)`,
          "`400 invalid_request`",
        ],
        [
          "Events per page of the change feed (`limit`)",
          `${n(MAX_EVENT_PAGE)} (default ${n(DEFAULT_EVENT_PAGE)}), at most ${bytes(MAX_EVENT_PAGE_BYTES)} of them`,
          "`400 invalid_request`; a page cut by bytes continues at its `nextCursor`",
        ],
        ["User ids in one membership event", n(MAX_MEMBERS_PER_EVENT), "consecutive events"],
        [
          "Rows per query of an export (users, groups, memberships)",
          `${n(EXPORT_PAGE)}, at most ${n(EXPORT_PAGE_BYTES)} bytes of them besides the first`,
          "the next page, streamed after it",
        ],
        [
          "Change feed kept",
          `${n(DEFAULT_EVENT_RETENTION_DAYS)} days (\`EVENT_RETENTION_DAYS\`)`,
          "purged hourly; older cursors `410 cursor_expired`",
        ],
        [
          "Rotation grace period (`graceSeconds`)",
          `0 to ${duration(MAX_GRACE_SECONDS * 1000)}`,
          "`400 invalid_request`",
        ],
      ],
    ],
    [
      "Roles and attributes",
      [
        ["Roles the vendor declares", n(MAX_ROLES), "`400 invalid_request`"],
        ["Items of one role mapping (groups and app role values)", n(MAX_MAPPING_ITEMS), "`400 invalid_request`"],
        ["App role value", `${n(MAX_APP_ROLE_LENGTH)} characters`, "`400 invalid_request`"],
        ["Groups a roles page lists (by name)", n(GROUPS_ON_PAGE), "the vendor maps the others"],
        ["Custom attributes the vendor declares", n(MAX_ATTRIBUTES), "`400 invalid_request`"],
        [
          "A custom attribute's string value",
          `${n(MAX_ATTRIBUTE_VALUE_LENGTH)} characters`,
          "`null`, reported in `attributeErrors` (`too_long`)",
        ],
        [
          "Users in one access event, and users a mapping's change brings in line per relay pass",
          n(MAX_USERS_PER_EVENT),
          "consecutive events; the next pass",
        ],
        [
          "Users' entries in one `access.attributes_changed` event",
          `about ${bytes(ATTRIBUTE_EVENT_BYTES)} (it closes before the entry that would pass it)`,
          "consecutive events",
        ],
        [
          "Changes per page of a preview (roles; attributes)",
          `${n(MAX_PREVIEW_PAGE)}; ${n(MAX_ATTRIBUTE_PREVIEW_PAGE)}`,
          "`400 invalid_request`; `nextCursor` pages on",
        ],
      ],
    ],
    [
      "Portal",
      [
        [
          "Setup link lifetime (`ttlSeconds`)",
          `${duration(MIN_LINK_TTL_SECONDS * 1000)} to ${duration(MAX_LINK_TTL_SECONDS * 1000)} (default ${duration(DEFAULT_LINK_TTL_SECONDS * 1000)})`,
          "`400 invalid_request`",
        ],
        ["Uses of a setup link", "1", "expiry page"],
        [
          "Portal session",
          `1 to 24 hours (\`PORTAL_SESSION_HOURS\`, default ${DEFAULT_SESSION_HOURS})`,
          "404 page; a new link is needed",
        ],
        ["Expired links and sessions kept", duration(PORTAL_RETENTION_MS), "deleted"],
        [
          "Requests per client address, to the portal and to the console apart, per Cloudflare location (assets not counted)",
          `${n(pages.limit)} per ${pages.period} s`,
          `\`429\` page with \`Retry-After\` (window of ${PAGE_RATE_LIMIT_PERIOD_SECONDS} s)`,
        ],
      ],
    ],
    [
      "Webhooks",
      [
        [
          "Attempts per delivery",
          `${n(MAX_ATTEMPTS)} over about ${(RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0) / 86_400).toFixed(1)} days (${RETRY_DELAYS_SECONDS[0]} s first, ±10 % jitter)`,
          "`dead`",
        ],
        ["Time to answer one delivery", duration(DELIVERY_TIMEOUT_MS), "failure, retried"],
        ["Every attempt failing for", duration(DISABLE_AFTER_MS), "endpoint disabled, reason shown"],
        ["Attempts kept in a delivery's log", n(MAX_LOGGED_ATTEMPTS), "oldest dropped"],
        ["Failed answer's body kept", `${n(MAX_EXCERPT_CHARS)} characters`, "cut"],
        ["Events fanned out or replayed per queue message", n(FANOUT_PAGE), "next message"],
        [
          "Deliveries an endpoint owes one tenant (pending or retrying)",
          `${n(MAX_OWED_PER_TENANT)} (\`WEBHOOK_MAX_OWED\`)`,
          "further events coalesced; one `webhook.events_skipped` delivery once there is room",
        ],
        ["Webhook sweep (lost messages re-sent)", `every 5 minutes, after ${duration(SWEEP_AFTER_MS)}`, "sent again"],
        [
          "Previous secret's grace period",
          `0 to ${duration(MAX_SECRET_GRACE_SECONDS * 1000)} (default ${duration(DEFAULT_SECRET_GRACE_SECONDS * 1000)})`,
          "`400 invalid_request`",
        ],
      ],
    ],
    [
      "Tokens and housekeeping",
      [
        ["Expiry warning ahead of a token's end", duration(EXPIRY_WARNING_MS), "once per token"],
        [
          "D1 lookups for unsigned (pre-signing) tokens, whole service, per Cloudflare location",
          `${n(legacy.limit)} per ${legacy.period} s`,
          "`503` with `Retry-After`",
        ],
        ["A refused signed token remembered per isolate", duration(REFUSED_TOKEN_MEMORY_MS), "401 without D1"],
        ["`lastUsedAt` resolution", duration(LAST_USED_RESOLUTION_MS), "coarser writes"],
        ["Life of a KV entry written back after a miss", duration(REFILL_TTL_SECONDS * 1000), "re-read from D1"],
        ["KV grant changes in flight at once", n(GRANT_CONCURRENCY), "queued"],
        [
          "Grants one rotation or tenant deletion ends in its own request (more than two live tokens predate the bound)",
          n(GRANTS_PER_REQUEST),
          "ended in D1; the rest of their grants deleted by housekeeping",
        ],
        [
          "Grants a resumable pass (a move's rewrite, a tenant deletion's) takes at a time, recording how far it got",
          n(GRANT_CHUNK),
          "next chunk, next step",
        ],
        ["Tokens handled per housekeeping batch (a step repeats its batch)", n(HOUSEKEEPING_BATCH_SIZE), "next batch"],
        [
          "Subrequests one hourly housekeeping run spends",
          n(HOUSEKEEPING_SUBREQUEST_BUDGET),
          "rest next run, reported",
        ],
        ["Metadata of ended tokens kept", duration(TOKEN_METADATA_RETENTION_MS), "deleted"],
        ["Failed-request log kept", duration(FAILED_REQUEST_RETENTION_MS), "deleted"],
        ["Audit log kept", duration(AUDIT_RETENTION_MS), "deleted"],
        ["Log rows (failed requests, audit) purged per batch", n(LOG_PURGE_BATCH), "next batch"],
        ["Change-feed events purged per batch", n(EVENT_PURGE_BATCH), "next batch"],
        [
          "Entra's users handed back per relay pass when an integration is removed",
          n(RELEASE_CHUNK),
          "the next pass (the cron's, every five minutes)",
        ],
        ["Failed-request `detail` stored", `${n(MAX_DETAIL_LENGTH)} characters`, "truncated"],
        [
          "Audit row's `detail`",
          `${bytes(MAX_AUDIT_DETAIL_BYTES)}: counts and the first ${n(MAX_AUDIT_IDS)} ids (the feed has every id)`,
          "stored as its size alone",
        ],
        ["Failed-request path (with query) stored", `${n(MAX_LOGGED_PATH_LENGTH)} characters`, "truncated"],
        ["Failed-request rows per tenant", n(MAX_FAILED_REQUEST_ROWS), "identical failures aggregate; the oldest go"],
        [
          "Writes of one repeated failure per isolate",
          `one per ${duration(FAILURE_COALESCE_MS)}`,
          "repeats added to the next",
        ],
      ],
    ],
  ];
}

/** How the history quota's default is derived (test/support/history-model.ts; test/history-quota.test.ts holds it). */
function historyModel() {
  const { users, historyBytes } = installedQuotaDefaults();
  const { churnPerDay, headroom, bytes: b } = HISTORY_MODEL;
  const feedDays = DEFAULT_EVENT_RETENTION_DAYS;
  const auditDays = AUDIT_RETENTION_MS / 86_400_000;
  return [
    "The history default is derived from the bytes a tenant's history counts per Entra request (measured, rounded",
    `up: a user created, ${n(b.createdEvent)} for its event and ${n(b.createdAudit)} for its audit row; a user`,
    `updated, ${n(b.updatedEvent)} and ${n(b.updatedAudit)}), for a tenant at the default user quota U = ${n(users)}`,
    `after its initial sync, with ${churnPerDay * 100} % of its users changed every day, the feed kept`,
    `${feedDays} days and the audit log ${auditDays}:`,
    "",
    `    history = ${headroom} × (U × (${n(b.createdEvent)} + ${n(b.createdAudit)}) + U × ${churnPerDay} × (${feedDays} × ${n(b.updatedEvent)} + ${auditDays} × ${n(b.updatedAudit)}))`,
    `            = ${bytes(modelledHistoryBytes(users, feedDays, auditDays))}, rounded up to ${bytes(historyBytes)}`,
    "",
    `(${headroom} is headroom for enterprise attributes and group changes.) An Entra initial sync at the default quotas`,
    "is never refused by it (test/history-quota.test.ts replays one).",
  ];
}

function render() {
  const lines = [
    "# Limits",
    "",
    "Generated by `test/node/docs.test.ts` from the constants that enforce each limit (`npm run docs:limits`",
    "rewrites it; the test fails while it differs).",
  ];
  for (const [title, rows] of sections()) {
    lines.push("", `## ${title}`, "", "| limit | value | beyond it |", "| --- | --- | --- |");
    for (const [limit, value, beyond] of rows) lines.push(`| ${limit} | ${value} | ${beyond} |`);
    if (title.startsWith("Quotas")) lines.push("", ...historyModel());
  }
  return `${lines.join("\n")}\n`;
}

it("docs/limits.md states the limits the code enforces", async () => {
  await expect(render()).toMatchFileSnapshot("../../docs/limits.md");
});

it("wrangler.toml declares the housekeeping cron the worker runs housekeeping on, and one other (the relay)", () => {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  const crons = JSON.parse(/^crons = (\[.*\])$/m.exec(toml)?.[1] ?? "[]") as string[];
  expect(crons).toContain(HOUSEKEEPING_CRON);
  expect(crons).toHaveLength(2);
});

it("wrangler.toml gives every environment the same rate limiters, each environment its own namespaces", () => {
  interface Limiter {
    name: string;
    namespace_id: string;
    simple: unknown;
  }
  // The shape this test reads; the expectations below fail on any other.
  const config = parse(readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8")) as unknown as {
    ratelimits: Limiter[];
    env: Record<string, { ratelimits: Limiter[] }>;
  };
  const budgets = (limiters: Limiter[]) => limiters.map(({ name, simple }) => ({ name, simple }));
  const top = config.ratelimits;
  expect(top.map((l) => l.name)).toEqual([
    "TENANT_RATE_LIMITER",
    "LEGACY_AUTH_LIMITER",
    "PAGE_RATE_LIMITER",
    "TOKEN_RATE_LIMITER",
    "SECRET_RATE_LIMITER",
  ]);
  const environments = Object.values(config.env);
  for (const environment of environments) expect(budgets(environment.ratelimits)).toEqual(budgets(top));
  const namespaces = [top, ...environments.map((e) => e.ratelimits)].flat().map((l) => l.namespace_id);
  expect(new Set(namespaces).size).toBe(namespaces.length);
});

// Loopback webhooks, a JWKS origin beyond Microsoft's and the console's Access keys from a test's issuer are a test's
// or a deployment's own choice, never the shipped configuration's.
it.each(["WEBHOOKS_ALLOW_HTTP", "WIF_ALLOWED_JWKS_ORIGINS", "ACCESS_CERTS_URL"])(
  "wrangler.toml never sets %s, in any environment",
  (name) => {
    const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
    // Anywhere but in comments (which name it to say so): as a key, quoted, or inside an inline table.
    const settings = toml.split("\n").filter((line) => !line.trimStart().startsWith("#"));
    expect(settings.filter((line) => line.includes(name))).toEqual([]);
  },
);

it("docs/api.md lists every admin error code with its status, and no other", () => {
  const doc = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
  const documented = Object.fromEntries(
    [...doc.matchAll(/^\| (\d{3}) +\| `([a-z_]+)` +\|/gm)].map((m) => [m[2], Number(m[1])]),
  );
  expect(documented).toEqual(ADMIN_ERROR_STATUS);
});

it("docs/events.md describes every event type of the registry, in its order, with the keys of its payload", () => {
  const doc = readFileSync(new URL("../../docs/events.md", import.meta.url), "utf8");
  const rows = [...doc.matchAll(/^\| `([a-z_.]+)` +\|[^|]+\|([^|]+)\|$/gm)].map((m) => ({
    type: m[1] as EventType,
    // The payload's top-level keys, as the row names them (`user`, `changedAttributes`, …; not `{ … }` shapes).
    keys: [...(m[2] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((k) => k[1]).sort(),
  }));
  expect(rows.map((r) => r.type)).toEqual(EVENT_TYPES);
  for (const { type, keys } of rows) {
    const schema = EVENTS[type].data as unknown as { entries: Record<string, unknown> };
    expect(keys, type).toEqual(Object.keys(schema.entries).sort());
  }
});

it("the README's mapping table is the seed's, as the portal's guide shows it (ENTRA_MAPPINGS), row by row", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  const start = readme.indexOf("| Source (Entra)");
  const rows = readme
    .slice(start)
    .split("\n")
    .slice(2)
    .filter((line) => line.trim().startsWith("|"))
    .map((line) => line.split("|").map((cell) => cell.trim().replaceAll("`", "")))
    .map(([, source, target]) => [
      source,
      target?.replace(" (expression mapping)", "").replace("<enterprise>", enterprise),
    ]);
  expect(rows).toEqual(ENTRA_MAPPINGS.map(([source, target]) => [source, target]));
});
