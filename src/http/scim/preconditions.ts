import type { Context } from "hono";
import { type EtagSet, matchesEtag, parseEtags } from "../../scim/preconditions";
import { weakEtag } from "../../scim/version";

/** The versions the request's If-Match names, for the use case to check against what it reads. */
export const ifMatch = (c: Context): EtagSet | undefined => parseEtags(c.req.header("If-Match"));

/** GET with If-None-Match naming the current version: 304, no body. */
export function notModified(c: Context, version: number): Response | undefined {
  const etags = parseEtags(c.req.header("If-None-Match"));
  if (etags === undefined || !matchesEtag(etags, version)) return undefined;
  return new Response(null, { status: 304, headers: { ETag: weakEtag(version) } });
}
