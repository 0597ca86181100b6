import type { MiddlewareHandler } from "hono";
import * as v from "valibot";
import { ADMIN_ERROR_STATUS, type AdminErrorCode } from "../../services/errors";

/**
 * What each admin route says of itself for the OpenAPI document: its outcomes (`documented`, here) and its input
 * (the validators of http/admin/validate.ts), attached to the route's own middleware. The document is built from them
 * ahead of time (http/admin/openapi-document.ts, run by `npm run docs:openapi`) and served as a file; at request time
 * these descriptions are inert, and no OpenAPI or JSON Schema library is bundled into the worker.
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

/** A success status an admin route answers. */
type SuccessStatus = 200 | 201 | 202 | 204;
/** An error status a route answers besides those every admin route can (400, 401, 500, 503). */
type ErrorStatus = 403 | 404 | 409 | 410 | 412 | 429;

export interface RouteDoc {
  summary: string;
  tags: string[];
  /** Success statuses and their JSON bodies (null: no body). */
  responses: Partial<Record<SuccessStatus, v.GenericSchema | null>>;
  /** Error statuses this route answers besides 400, 401, 500 and 503. */
  errors?: ErrorStatus[];
  /** A body that is not JSON (the export's NDJSON), by media type. */
  content?: Record<string, { schema: Record<string, unknown> }>;
}

/** What a route's middleware describes: the route's outcomes, or one of its inputs and the schema that checks it. */
export type RouteDescription =
  | { kind: "outcomes"; doc: RouteDoc }
  | { kind: "input"; target: "json" | "query"; schema: v.GenericSchema };

const DESCRIPTION = Symbol("admin route description");

/** `middleware`, carrying `description` for the document. */
export const describing = <M extends MiddlewareHandler>(middleware: M, description: RouteDescription) =>
  Object.assign(middleware, { [DESCRIPTION]: description });

/** The description a route's handler carries, if it is one of the above. */
export const descriptionOf = (handler: unknown): RouteDescription | undefined =>
  (handler as { [DESCRIPTION]?: RouteDescription })[DESCRIPTION];

/** The route's outcomes, as a middleware that does nothing at request time. */
export const documented = (doc: RouteDoc) =>
  describing((async (_c, next) => next()) satisfies MiddlewareHandler, { kind: "outcomes", doc });
