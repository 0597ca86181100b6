import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { AdminError } from "../../services/errors";
import {
  getRoleMapping,
  MAX_APP_ROLE_LENGTH,
  MAX_MAPPING_ITEMS,
  MAX_PREVIEW_PAGE,
  previewRoleMapping,
  type RoleMappingView,
  replaceRoleMapping,
} from "../../services/roles";
import { operatorContext, tenantParam } from "./context";
import { documented } from "./openapi";
import { RoleKey } from "./roles";
import { jsonBody, queryOf } from "./validate";

export const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_APP_ROLE_LENGTH));

const Item = v.union([v.strictObject({ groupId: Id, role: RoleKey }), v.strictObject({ scimRole: Id, role: RoleKey })]);
const MappingBody = v.strictObject({
  integrationId: v.optional(Id),
  defaultRole: v.nullable(RoleKey),
  items: v.pipe(v.array(Item), v.maxLength(MAX_MAPPING_ITEMS)),
});
const MappingWire = v.strictObject({
  integrationId: v.string(),
  mappingVersion: v.number(),
  defaultRole: v.nullable(v.string()),
  items: v.array(Item),
  applying: v.boolean(),
});
export const Query = v.strictObject({ integrationId: v.optional(Id) });
const PreviewQuery = v.strictObject({
  limit: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(MAX_PREVIEW_PAGE)), "100"),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^[^:]{1,200}:.{1,64}$/, "must be a cursor this API gave"))),
});
const PreviewWire = v.strictObject({
  integrationId: v.string(),
  mappingVersion: v.pipe(v.number(), v.description("The version this preview was computed on: If-Match to apply it")),
  granted: v.number(),
  revoked: v.number(),
  byRole: v.pipe(
    v.array(v.strictObject({ role: v.string(), change: v.picklist(["granted", "revoked"]), users: v.number() })),
    v.description("How many users each role would be given or taken from"),
  ),
  changes: v.array(
    v.strictObject({
      userId: v.string(),
      userName: v.string(),
      role: v.string(),
      change: v.picklist(["granted", "revoked"]),
    }),
  ),
  nextCursor: v.nullable(v.string()),
});
const tags = ["roles"];

const toWire = ({ version, ...mapping }: RoleMappingView): v.InferOutput<typeof MappingWire> => ({
  integrationId: mapping.integrationId,
  mappingVersion: version,
  defaultRole: mapping.defaultRole,
  items: mapping.items,
  applying: mapping.applying,
});

/** `If-Match: 3` or `"3"` (the ETag this API answers with); absent: replace whatever is there. */
export function versionOf(header: string | undefined) {
  if (header === undefined) return undefined;
  const match = /^\s*"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw new AdminError("invalid_request", "If-Match must be the mapping's version (mappingVersion).");
  return Number(match[1]);
}

/** A tenant's mapping of an integration's directory groups and app roles to the vendor's roles (docs/access.md). */
export const roleMappingRoutes = new Hono<AppEnv>()
  .get(
    "/",
    documented({ summary: "An integration's role mapping", tags, responses: { 200: MappingWire }, errors: [404] }),
    queryOf(Query),
    async (c) => {
      const mapping = await getRoleMapping(operatorContext(c), tenantParam(c), c.req.valid("query").integrationId);
      c.header("ETag", `"${mapping.version}"`);
      return c.json(toWire(mapping));
    },
  )
  .post(
    "/preview",
    documented({
      summary: "What replacing an integration's role mapping would change, user by user",
      tags,
      responses: { 200: PreviewWire },
      errors: [404, 409],
    }),
    queryOf(PreviewQuery),
    jsonBody(MappingBody),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const at = cursor?.indexOf(":") ?? -1;
      const after = cursor && at > 0 ? ([cursor.slice(0, at), cursor.slice(at + 1)] as [string, string]) : undefined;
      const { next, ...preview } = await previewRoleMapping(operatorContext(c), tenantParam(c), c.req.valid("json"), {
        limit: Number(limit),
        after,
      });
      return c.json({ ...preview, nextCursor: next ? `${next[0]}:${next[1]}` : null });
    },
  )
  .put(
    "/",
    documented({
      summary: "Replace an integration's role mapping (If-Match: its mappingVersion)",
      tags,
      responses: { 200: MappingWire },
      errors: [403, 404, 409, 412],
    }),
    jsonBody(MappingBody),
    async (c) => {
      const ifMatch = versionOf(c.req.header("If-Match"));
      const mapping = await replaceRoleMapping(operatorContext(c), tenantParam(c), c.req.valid("json"), ifMatch);
      c.header("ETag", `"${mapping.version}"`);
      return c.json(toWire(mapping));
    },
  );
