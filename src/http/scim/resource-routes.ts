import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { listResponse, type Page, parsePage } from "../../scim/paging";
import type { EtagSet } from "../../scim/preconditions";
import { type Projection, project } from "../../scim/projection";
import type { ResourceTypeDef } from "../../scim/schema/resource-types";
import { weakEtag } from "../../scim/version";
import type { ScimContext } from "../../services/context";
import { queryParams, readJsonBody } from "./body";
import { scimContext } from "./context";
import { ifMatch, notModified } from "./preconditions";
import { projectionFor } from "./projection";
import { scimJson } from "./respond";

/** What a served resource carries for the wire: where it lives and its version as a weak ETag. */
type Resource = Record<string, unknown> & { meta: { location: string; version: string } };

/** The use cases of one resource type, as its routes call them. */
export interface ResourceUseCases<R extends Resource> {
  list(
    ctx: ScimContext,
    query: { filter?: string; page: Page; projection: Projection },
  ): Promise<{ resources: R[]; total: number }>;
  /** `cacheable` false when the resource can change without its version moving (then no 304). */
  get(
    ctx: ScimContext,
    id: string,
    projection: Projection,
  ): Promise<{ resource: R; version: number; cacheable: boolean }>;
  create(ctx: ScimContext, body: unknown): Promise<R>;
  replace(ctx: ScimContext, id: string, body: unknown, ifMatch: EtagSet | undefined): Promise<R>;
  /** The resource, or only its new version when the answer is to be 204. */
  patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch: EtagSet | undefined,
    request: { projection: Projection; resourceAsked: boolean },
  ): Promise<{ resource: R } | { version: number }>;
  remove(ctx: ScimContext, id: string, ifMatch: EtagSet | undefined): Promise<void>;
}

/**
 * `/scim/v2/:tenantId/i/:integrationId/<Resource>` for any resource type: parse the request, call the use case, answer with
 * projection, ETag and Location. A new resource type is a schema, a store and its use cases; its HTTP is this.
 */
export function resourceRoutes<R extends Resource>(rt: ResourceTypeDef, useCases: ResourceUseCases<R>) {
  return new Hono<AppEnv>()
    .use("*", projectionFor(rt))
    .get("/", async (c) => {
      const params = queryParams(c.req.url);
      const page = parsePage(params.startindex, params.count);
      const { projection } = c.var;
      const { resources, total } = await useCases.list(scimContext(c), { filter: params.filter, page, projection });
      return scimJson(
        c,
        listResponse(
          resources.map((r) => project(r, projection)),
          total,
          page,
        ),
      );
    })
    .post("/", async (c) => {
      const resource = await useCases.create(scimContext(c), await readJsonBody(c));
      return respond(c, resource, 201, { Location: resource.meta.location });
    })
    .get("/:id", async (c) => {
      const { resource, version, cacheable } = await useCases.get(scimContext(c), c.req.param("id"), c.var.projection);
      return (cacheable && notModified(c, version)) || respond(c, resource);
    })
    .put("/:id", async (c) => {
      const body = await readJsonBody(c);
      return respond(c, await useCases.replace(scimContext(c), c.req.param("id"), body, ifMatch(c)));
    })
    .patch("/:id", async (c) => {
      const body = await readJsonBody(c);
      const params = queryParams(c.req.url);
      const resourceAsked = params.attributes !== undefined || params.excludedattributes !== undefined;
      const result = await useCases.patch(scimContext(c), c.req.param("id"), body, ifMatch(c), {
        projection: c.var.projection,
        resourceAsked,
      });
      if ("resource" in result) return respond(c, result.resource);
      return c.body(null, 204, { ETag: weakEtag(result.version) });
    })
    .delete("/:id", async (c) => {
      await useCases.remove(scimContext(c), c.req.param("id"), ifMatch(c));
      return c.body(null, 204);
    });
}

function respond(
  c: Context<AppEnv>,
  resource: Resource,
  status: 200 | 201 = 200,
  headers: Record<string, string> = {},
) {
  return scimJson(c, project(resource, c.var.projection), status, { ETag: resource.meta.version, ...headers });
}
