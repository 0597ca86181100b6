import type { CheckedFilter, ElementFilter } from "./filter/check";

/**
 * The attributes a directory looks one resource up by before it writes (Entra's matching attributes: externalId,
 * userName, a work email; for groups displayName, then externalId; Okta's import matches the same ways). A filter
 * that is one `eq` on one of them is a match, and when it hits a single user or group of the directory being taken
 * over, that one is taken over (db/takeover.ts); any other filter (a listing, `active eq true`) only reads.
 */
export type MatchedBy = "externalId" | "userName" | "email" | "displayName";

const TOP_LEVEL: Record<"User" | "Group", readonly MatchedBy[]> = {
  User: ["externalId", "userName"],
  Group: ["externalId", "displayName"],
};

/** What `filter` matches by, or null when it is not a matching lookup for this resource type. */
export function matchedBy(filter: CheckedFilter | undefined, resourceType: "User" | "Group"): MatchedBy | null {
  if (filter?.kind === "compare" && filter.op === "eq" && filter.path.length === 1) {
    return TOP_LEVEL[resourceType].find((attribute) => attribute === filter.path[0]) ?? null;
  }
  if (resourceType === "User" && filter?.kind === "element" && filter.path.join(".") === "emails" && filter.filter) {
    return comparesValue(filter.filter) ? "email" : null;
  }
  return null;
}

/** `value eq "x"`, alone or beside conditions on the element's other sub-attributes (`type eq "work"`). */
function comparesValue(filter: ElementFilter): boolean {
  if (filter.kind === "compare") return filter.op === "eq" && filter.path.join(".") === "value";
  return filter.kind === "and" && (comparesValue(filter.left) || comparesValue(filter.right));
}
