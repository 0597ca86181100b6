import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { listAttributes, replaceAttributes } from "../../services/attributes";
import { operatorContext } from "./context";
import { documented } from "./openapi";
import { jsonBody } from "./validate";

/** An attribute's key: the product's own name for the field, stable, used in mappings, the feed and the admin API. */
export const AttributeKey = v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, "must be an attribute key"));
/**
 * More fields than a product fills from a directory is a document in disguise; the bound also keeps a user's entry
 * in an attribute event small (docs/access.md).
 */
export const MAX_ATTRIBUTES = 50;

const AttributeWire = v.strictObject({
  key: AttributeKey,
  type: v.picklist(["string", "boolean", "number"]),
  description: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(500))), null),
});
const Attributes = v.strictObject({ items: v.pipe(v.array(AttributeWire), v.maxLength(MAX_ATTRIBUTES)) });
const tags = ["attributes"];

/** The vendor's custom attributes: what a tenant's directory attributes map to (docs/access.md). */
export const attributeRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({ summary: "The vendor's custom attributes", tags, responses: { 200: Attributes } }),
    async (c) => c.json({ items: await listAttributes(operatorContext(c)) }),
  )
  .put(
    "/",
    documented({
      summary: "Replace the vendor's custom attributes",
      tags,
      responses: { 200: Attributes },
      errors: [409],
    }),
    jsonBody(Attributes),
    async (c) => c.json({ items: await replaceAttributes(operatorContext(c), c.req.valid("json").items) }),
  );
