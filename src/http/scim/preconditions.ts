import type { Context } from "hono";
import { ScimError } from "../../scim/errors";
import { weakEtag } from "../../scim/version";

/** The versions an If-Match / If-None-Match header names; "any" for `*`; undefined when the header is absent. */
function parseEtags(header: string | undefined): number[] | "any" | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "any";
  return [...header.matchAll(/(?:W\/)?"(\d+)"/g)].map((m) => Number(m[1]));
}

const matches = (etags: number[] | "any", version: number) => etags === "any" || etags.includes(version);

/** True when the client sent If-Match naming versions, so a write must be conditional on the one it read. */
export const hasIfMatch = (c: Context) => {
  const header = c.req.header("If-Match");
  return header !== undefined && header.trim() !== "*";
};

/** 412 unless the resource's current version is one the client's If-Match names (or there is no If-Match). */
export function checkIfMatch(c: Context, version: number) {
  const etags = parseEtags(c.req.header("If-Match"));
  if (etags !== undefined && !matches(etags, version)) throw preconditionFailed();
}

/** GET with If-None-Match naming the current version: 304, no body. */
export function notModified(c: Context, version: number): Response | undefined {
  const etags = parseEtags(c.req.header("If-None-Match"));
  if (etags === undefined || !matches(etags, version)) return undefined;
  return new Response(null, { status: 304, headers: { ETag: weakEtag(version) } });
}

export const preconditionFailed = () =>
  new ScimError(412, "The resource has changed since the version named in If-Match; read it again.");
