import { ScimError } from "./errors";

/**
 * RFC 7644 §3.14 preconditions as the protocol sees them: the versions an If-Match / If-None-Match header names,
 * `"any"` for `*`, undefined when the header is absent.
 */
export type EtagSet = number[] | "any";

export function parseEtags(header: string | undefined): EtagSet | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "any";
  return [...header.matchAll(/(?:W\/)?"(\d+)"/g)].map((m) => Number(m[1]));
}

export const matchesEtag = (etags: EtagSet, version: number) => etags === "any" || etags.includes(version);

/** True when If-Match names versions, so a write must be conditional on the version it read (`*` only asks existence). */
export const namesVersions = (ifMatch: EtagSet | undefined): ifMatch is number[] =>
  ifMatch !== undefined && ifMatch !== "any";

/** 412 unless the resource's current version is one If-Match names (or there is no If-Match). */
export function checkIfMatch(ifMatch: EtagSet | undefined, version: number) {
  if (ifMatch !== undefined && !matchesEtag(ifMatch, version)) throw preconditionFailed();
}

export const preconditionFailed = () =>
  new ScimError(412, "The resource has changed since the version named in If-Match; read it again.");
