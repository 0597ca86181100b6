import { toJsonSchema } from "@valibot/to-json-schema";
import { describeRoute, type GenerateSpecOptions, resolver } from "hono-openapi";
import * as v from "valibot";
import { ADMIN_ERROR_STATUS, type AdminErrorCode } from "../../services/errors";

/**
 * The admin API's OpenAPI 3.1 description, generated from the routes themselves (hono-openapi): request bodies from
 * the valibot schemas that validate them (http/admin/validate.ts), responses from the valibot schemas their wire
 * functions are typed against, and the one error shape with the statuses each route can answer.
 */

/** `{ "error": { "code", "message" } }`, the code one of the closed set (services/errors.ts). */
export const ErrorBody = v.strictObject({
  error: v.strictObject({
    code: v.picklist(Object.keys(ADMIN_ERROR_STATUS) as AdminErrorCode[]),
    message: v.string(),
  }),
});

/** An ISO 8601 instant, or null where a field may be unset. */
export const Instant = v.pipe(v.string(), v.isoTimestamp());
export const MaybeInstant = v.nullable(Instant);

/** `{ items, nextCursor }`: every admin list. */
export const ListOf = <T extends v.GenericSchema>(item: T) =>
  v.strictObject({ items: v.array(item), nextCursor: v.nullable(v.string()) });

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

export interface RouteDoc {
  summary: string;
  tags: string[];
  /** Success statuses and their JSON bodies (null: no body). */
  responses: Partial<Record<200 | 201 | 202 | 204, v.GenericSchema | null>>;
  /** Error statuses this route answers besides 400, 401, 500 and 503. */
  errors?: (403 | 404 | 409 | 410 | 412 | 429)[];
  /** A body that is not JSON (the export's NDJSON), by media type. */
  content?: Record<string, { schema: Record<string, unknown> }>;
}

/** The route's entry in the document (a middleware that only describes; it does nothing at request time). */
export function documented(doc: RouteDoc) {
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
  return describeRoute({
    summary: doc.summary,
    tags: doc.tags,
    responses: responses as never,
  });
}

/** The document's frame: what it is, how to authenticate, and the error shape every route shares. */
export const DOCUMENTATION: GenerateSpecOptions["documentation"] = {
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
