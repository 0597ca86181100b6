import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import {
  type AttributeMappingView,
  getAttributeMapping,
  MAX_ATTRIBUTE_PREVIEW_PAGE,
  MAX_PATH_LENGTH,
  previewAttributeMapping,
  replaceAttributeMapping,
} from "../../services/attributes";
import { AttributeKey, MAX_ATTRIBUTES } from "./attributes";
import { operatorContext, tenantParam } from "./context";
import { documented } from "./openapi";
import { Id, Query, versionOf } from "./role-mappings";
import { jsonBody, queryOf } from "./validate";

/** A SCIM attribute path: `department`, `name.givenName`, `urn:…:enterprise:2.0:User:costCenter`, `emails[type eq "work"].value`. */
const Path = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH));
const Item = v.strictObject({ key: AttributeKey, path: Path });
const MappingBody = v.strictObject({
  integrationId: v.optional(Id),
  items: v.pipe(v.array(Item), v.maxLength(MAX_ATTRIBUTES)),
});
const MappingWire = v.strictObject({
  integrationId: v.string(),
  mappingVersion: v.pipe(
    v.number(),
    v.description("The integration's mapping version (roles and attributes share it)"),
  ),
  items: v.array(Item),
  applying: v.boolean(),
});
const Value = v.union([v.string(), v.number(), v.boolean(), v.null()]);
const AttributeError = v.strictObject({ key: v.string(), path: v.string(), reason: v.string(), found: v.string() });
const PreviewQuery = v.strictObject({
  limit: v.optional(
    v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(MAX_ATTRIBUTE_PREVIEW_PAGE)),
    "50",
  ),
  cursor: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
});
const PreviewWire = v.strictObject({
  integrationId: v.string(),
  mappingVersion: v.pipe(v.number(), v.description("The version this preview was computed on: If-Match to apply it")),
  users: v.pipe(v.number(), v.description("How many users' attributes would change")),
  errors: v.pipe(
    v.array(v.strictObject({ key: v.string(), reason: v.string(), users: v.number() })),
    v.description("How many users a value would not fit for, by attribute and reason"),
  ),
  changes: v.array(
    v.strictObject({
      userId: v.string(),
      userName: v.string(),
      attributes: v.nullable(v.record(v.string(), Value)),
      previous: v.nullable(v.record(v.string(), Value)),
      attributeErrors: v.array(AttributeError),
    }),
  ),
  nextCursor: v.nullable(v.string()),
});
const tags = ["attributes"];

const toWire = ({ version, ...mapping }: AttributeMappingView): v.InferOutput<typeof MappingWire> => ({
  integrationId: mapping.integrationId,
  mappingVersion: version,
  items: mapping.items,
  applying: mapping.applying,
});

/** A tenant's mapping of an integration's SCIM attributes to the vendor's custom attributes (docs/access.md). */
export const attributeMappingRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({
      summary: "An integration's attribute mapping",
      tags,
      responses: { 200: MappingWire },
      errors: [404],
    }),
    queryOf(Query),
    async (c) => {
      const ctx = operatorContext(c);
      const mapping = await getAttributeMapping(ctx, tenantParam(c), c.req.valid("query").integrationId);
      c.header("ETag", `"${mapping.version}"`);
      return c.json(toWire(mapping));
    },
  )
  .post(
    "/preview",
    documented({
      summary: "What replacing an integration's attribute mapping would change, user by user",
      tags,
      responses: { 200: PreviewWire },
      errors: [404, 409],
    }),
    queryOf(PreviewQuery),
    jsonBody(MappingBody),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const { next, ...preview } = await previewAttributeMapping(
        operatorContext(c),
        tenantParam(c),
        c.req.valid("json"),
        { limit: Number(limit), after: cursor },
      );
      return c.json({ ...preview, nextCursor: next });
    },
  )
  .put(
    "/",
    documented({
      summary: "Replace an integration's attribute mapping (If-Match: its mappingVersion)",
      tags,
      responses: { 200: MappingWire },
      errors: [403, 404, 409, 412],
    }),
    jsonBody(MappingBody),
    async (c) => {
      const ifMatch = versionOf(c.req.header("If-Match"));
      const mapping = await replaceAttributeMapping(operatorContext(c), tenantParam(c), c.req.valid("json"), ifMatch);
      c.header("ETag", `"${mapping.version}"`);
      return c.json(toWire(mapping));
    },
  );
