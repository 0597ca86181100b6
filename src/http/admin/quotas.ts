import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { getQuotaDefaults, perQuota, updateQuotaDefaults } from "../../services/quotas";
import { operatorContext } from "./context";
import { documented } from "./openapi";
import { jsonBody } from "./validate";

/** The largest limit accepted: SQLite integers go further, JSON numbers stay exact up to here. */
const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

const Limit = v.nullable(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0), v.maxValue(MAX_LIMIT)));

/** `{ users?, groups?, bytes?, historyBytes? }`: a number sets a limit, null removes it (a tenant's: back to the default). */
export const QuotaLimitsBody = v.strictObject(perQuota(() => v.optional(Limit)));

const QuotaDefaults = v.strictObject(perQuota(() => v.nullable(v.number())));
const tags = ["quotas"];

/** The deployment's default quotas, for every tenant without limits of its own. */
export const quotaRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({ summary: "The deployment's default quotas", tags, responses: { 200: QuotaDefaults } }),
    async (c) => c.json(await getQuotaDefaults(operatorContext(c))),
  )
  .patch(
    "/",
    documented({ summary: "Change the default quotas (null: no limit)", tags, responses: { 200: QuotaDefaults } }),
    jsonBody(QuotaLimitsBody),
    async (c) => c.json(await updateQuotaDefaults(operatorContext(c), c.req.valid("json"))),
  );
