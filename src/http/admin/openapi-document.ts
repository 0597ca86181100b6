import { toJsonSchema } from "@valibot/to-json-schema";
import { Hono } from "hono";
import { findTargetHandler } from "hono/utils/handler";
import { describeRoute, type GenerateSpecOptions, generateSpecs, resolver, validator } from "hono-openapi";
import type * as v from "valibot";
import { descriptionOf, ErrorBody, type RouteDoc } from "./openapi";
import { adminRouter } from "./router";

/**
 * The admin API's OpenAPI 3.1 document, built ahead of time from the descriptions its routes carry (http/admin/
 * openapi.ts): request bodies and queries from the valibot schemas that validate them, responses from the schemas
 * their wire functions are typed against, and the one error shape with the statuses each route can answer.
 *
 * Build time only: `npm run docs:openapi` writes it to http/admin/openapi.json, which the worker serves, and the
 * tooling tests fail when that file is not what the routes describe (test/node/openapi.test.ts). No worker imports
 * this module, so hono-openapi and the JSON Schema conversion stay out of every bundle (test/node/scim-worker.test.ts).
 */
export function generateAdminDocument() {
  // The routes' descriptions, carried over to hono-openapi's own middleware on a copy of the routes, so its
  // generator reads them as it would have read the routes themselves.
  const described = new Hono();
  for (const route of adminRouter.routes) {
    const description = descriptionOf(findTargetHandler(route.handler));
    if (description === undefined) continue;
    described.on(
      route.method,
      route.path,
      description.kind === "outcomes"
        ? describeRoute(operationOf(description.doc))
        : validator(description.target, description.schema),
    );
  }
  return generateSpecs(described, { documentation: DOCUMENTATION });
}

/** What every admin route can answer besides its own outcomes. */
const ALWAYS = [400, 401, 500, 503] as const;

const DESCRIPTIONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No content",
  400: "Invalid request (code invalid_request or invalid_cursor)",
  401: "No valid admin API key",
  403: "A quota refused the write",
  404: "No such tenant, integration, user, group or webhook",
  409: "Conflicts with the current state",
  410: "Past retention",
  412: "The resource changed since the version the request names (If-Match)",
  429: "Too many requests; retry later (Retry-After)",
  500: "Internal error",
  503: "Storage unavailable; retry (Retry-After)",
};

const json = (schema: v.GenericSchema) => ({ "application/json": { schema: resolver(schema) } });

/** A route's entry in the document. */
function operationOf(doc: RouteDoc) {
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(doc.responses)) {
    responses[status] = {
      description: DESCRIPTIONS[Number(status)],
      ...(doc.content ? { content: doc.content } : schema ? { content: json(schema) } : {}),
    };
  }
  for (const status of [...ALWAYS, ...(doc.errors ?? [])]) {
    responses[status] = {
      description: DESCRIPTIONS[status],
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return { summary: doc.summary, tags: doc.tags, responses: responses as never };
}

/** The document's frame: what it is, how to authenticate, and the error shape every route shares. */
const DOCUMENTATION: GenerateSpecOptions["documentation"] = {
  openapi: "3.1.0",
  info: {
    title: "edge-scim admin API",
    version: "1.0.0",
    description:
      "The vendor's operator API: tenants and their placement, the Azure AD integration and its tokens, quotas, " +
      "portal setup links, the change feed, webhooks and exports. Every route takes the admin API key as a bearer token.",
  },
  servers: [{ url: "/admin" }],
  components: {
    securitySchemes: { adminKey: { type: "http", scheme: "bearer" } },
    schemas: { Error: toJsonSchema(ErrorBody, { target: "draft-2020-12" }) as never },
  },
  security: [{ adminKey: [] }],
};
