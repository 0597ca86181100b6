import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { badRequest, ScimError } from "../../scim/errors";
import { MAX_BODY_DEPTH, nestsWithin } from "../../scim/resource-input";

/** Largest accepted SCIM request body. A full user is a few KiB; this leaves room for big group member batches. */
export const MAX_BODY_BYTES = 256 * 1024;

export const scimBodyLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ScimError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  },
});

/** RFC 7644 §3.1 bodies: `application/scim+json` or `application/json` (any parameters); a missing type is tolerated. */
export async function readJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header("Content-Type");
  if (type && !/^application\/(scim\+)?json\s*(;|$)/i.test(type)) {
    throw new ScimError(415, "Content-Type must be application/scim+json or application/json.");
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("invalidSyntax", "The request body is not valid JSON.");
  }
  if (!nestsWithin(body, MAX_BODY_DEPTH)) {
    throw badRequest("invalidValue", `The request body nests more than ${MAX_BODY_DEPTH} levels deep.`);
  }
  return body;
}

/** Query parameters decoded as form data (`+` is a space, as Entra encodes filters), names case-insensitive. */
export function queryParams(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URL(url).searchParams) out[key.toLowerCase()] = value;
  return out;
}
