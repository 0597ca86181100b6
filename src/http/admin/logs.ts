import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { listAudit, listRequestFailures } from "../../services/logs";
import { operatorContext, tenantParam } from "./context";
import { iso, listBody, numericCursor, parseListQuery } from "./wire";

/** `GET /admin/tenants/:tenantId/audit` and `/requests`, newest first, keyset-paged. */
export const logRoutes = new Hono<AppEnv>()
  .get("/audit", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    const rows = await listAudit(operatorContext(c), tenantParam(c), numericCursor(cursor), limit);
    return c.json(listBody(rows, limit, toLogEntry));
  })
  .get("/requests", async (c) => {
    const { cursor, limit } = parseListQuery(c.req.query());
    const rows = await listRequestFailures(operatorContext(c), tenantParam(c), numericCursor(cursor), limit);
    return c.json(listBody(rows, limit, toFailureEntry));
  });

/** A failed-request row as operators read it: how often the same failure happened, and from when to when. */
const toFailureEntry = ({ fingerprint: _, firstAt, ...entry }: FailureRow) => ({
  ...toLogEntry(entry),
  firstAt: iso(firstAt ?? entry.at),
});
type FailureRow = Awaited<ReturnType<typeof listRequestFailures>>[number];

const toLogEntry = <T extends { tenantId: string; at: number }>({ tenantId: _, at, ...entry }: T) => ({
  ...entry,
  at: iso(at),
});
