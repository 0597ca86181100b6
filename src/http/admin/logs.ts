import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { listAudit, listRequestFailures } from "../../services/logs";
import { operatorContext, tenantParam } from "./context";
import { documented, Instant, ListOf } from "./openapi";
import { queryOf } from "./validate";
import { IntegrationRefWire, iso, ListQuery, listBody, numericCursor } from "./wire";

const AuditEntry = v.strictObject({
  id: v.number(),
  at: Instant,
  actor: v.string(),
  action: v.string(),
  resourceType: v.nullable(v.string()),
  resourceId: v.nullable(v.string()),
  detail: v.nullable(v.record(v.string(), v.unknown())),
});
const FailureEntry = v.strictObject({
  id: v.number(),
  at: Instant,
  firstAt: Instant,
  tokenId: v.nullable(v.string()),
  integration: v.pipe(
    IntegrationRefWire,
    v.description("The integration whose SCIM URL was called; entries from before integrations: the legacy one"),
  ),
  method: v.string(),
  path: v.string(),
  status: v.number(),
  scimType: v.nullable(v.string()),
  detail: v.nullable(v.string()),
  count: v.number(),
});
const tags = ["logs"];
const logDoc = (summary: string, item: v.GenericSchema) =>
  documented({ summary, tags, responses: { 200: ListOf(item) }, errors: [404] });

/** `GET /admin/tenants/:tenantId/audit` and `/requests`, newest first, keyset-paged. */
export const logRoutes = new Hono<AppEnv>()
  .get("/audit", logDoc("The tenant's audit log, newest first", AuditEntry), queryOf(ListQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listAudit(operatorContext(c), tenantParam(c), numericCursor(cursor), limit);
    return c.json(listBody(rows, limit, toAuditEntry));
  })
  .get(
    "/requests",
    logDoc("The tenant's failed SCIM requests, newest first", FailureEntry),
    queryOf(ListQuery),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const rows = await listRequestFailures(operatorContext(c), tenantParam(c), numericCursor(cursor), limit);
      return c.json(listBody(rows, limit, toFailureEntry));
    },
  );

type AuditRow = Awaited<ReturnType<typeof listAudit>>[number];
/** An audit row as operators read it (the relay's bookkeeping key stays inside). */
const toAuditEntry = ({ tenantId: _, relayId: __, at, ...entry }: AuditRow): v.InferOutput<typeof AuditEntry> => ({
  ...entry,
  at: iso(at),
});

type FailureRow = Awaited<ReturnType<typeof listRequestFailures>>[number];
/**
 * A failed-request row as operators read it: how often the same failure happened, from when to when, and the
 * integration it was of (the stored id, null before it was recorded, is in `integration`).
 */
const toFailureEntry = ({
  tenantId: _,
  fingerprint: __,
  integrationId: ___,
  at,
  firstAt,
  ...entry
}: FailureRow): v.InferOutput<typeof FailureEntry> => ({ ...entry, at: iso(at), firstAt: iso(firstAt ?? at) });
