import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { parseProjection } from "../../scim/projection";
import type { ResourceTypeDef } from "../../scim/schema/resource-types";
import { queryParams } from "./body";

/** Parses the request's `attributes`/`excludedAttributes` for a resource type up front (400 before any write). */
export const projectionFor = (rt: ResourceTypeDef) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const params = queryParams(c.req.url);
    c.set("projection", parseProjection(rt, params.attributes, params.excludedattributes));
    await next();
  });
