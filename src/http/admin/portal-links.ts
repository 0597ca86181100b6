import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { allowedOrigins, allowedReturnUrl } from "../../lib/urls";
import { AdminError } from "../../services/errors";
import {
  createSetupLink,
  DEFAULT_LINK_TTL_SECONDS,
  MAX_LINK_TTL_SECONDS,
  MIN_LINK_TTL_SECONDS,
} from "../../services/portal";
import { portalPaths } from "../pages/paths";
import { operatorContext, tenantParam } from "./context";
import { documented, Instant } from "./openapi";
import { jsonBody } from "./validate";
import { iso } from "./wire";

const CreatePortalLink = v.strictObject({
  ttlSeconds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(MIN_LINK_TTL_SECONDS), v.maxValue(MAX_LINK_TTL_SECONDS)),
    DEFAULT_LINK_TTL_SECONDS,
  ),
  returnUrl: v.optional(v.pipe(v.string(), v.maxLength(2048))),
});

/** `POST /admin/tenants/:tenantId/portal-links`: a single-use setup link to send the tenant's admin. */
const PortalLink = v.strictObject({ url: v.string(), expiresAt: Instant });

export const portalLinkRoutes = new Hono<AppEnv>().post(
  "/",
  documented({
    summary: "A single-use setup link to the tenant's portal page",
    tags: ["portal"],
    responses: { 201: PortalLink },
    errors: [404],
  }),
  jsonBody(CreatePortalLink),
  async (c) => {
    const body = c.req.valid("json");
    const returnUrl =
      body.returnUrl === undefined
        ? null
        : allowedReturnUrl(body.returnUrl, allowedOrigins(c.env.PORTAL_RETURN_ORIGINS));
    if (body.returnUrl !== undefined && returnUrl === null) {
      throw new AdminError(
        "invalid_request",
        "returnUrl must be an http(s) URL on one of the origins in PORTAL_RETURN_ORIGINS.",
      );
    }
    const link = await createSetupLink(operatorContext(c), tenantParam(c), { ttlSeconds: body.ttlSeconds, returnUrl });
    const url = `${new URL(c.req.url).origin}${portalPaths.link(link.secret)}`;
    return c.json({ url, expiresAt: iso(link.expiresAt) } satisfies v.InferOutput<typeof PortalLink>, 201);
  },
);
