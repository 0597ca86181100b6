import type { Context } from "hono";
import type { ScimError } from "../../scim/errors";

/** RFC 7644 §8.1: every SCIM response is `application/scim+json` (Entra's validator rejects `application/json`). */
export const SCIM_MEDIA_TYPE = "application/scim+json";

export function scimJson(c: Context, body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}) {
  return c.body(JSON.stringify(body), status, { "Content-Type": SCIM_MEDIA_TYPE, ...headers });
}

export function scimErrorResponse(error: ScimError) {
  return new Response(JSON.stringify(error.toBody()), {
    status: error.status,
    headers: { "Content-Type": SCIM_MEDIA_TYPE, ...error.headers },
  });
}
