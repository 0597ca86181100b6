import { FilterTooComplexError } from "../db/filter-sql";
import { badRequest } from "../scim/errors";
import { type CheckedFilter, checkFilter } from "../scim/filter/check";
import { parseFilter } from "../scim/filter/parse";
import type { ResourceTypeDef } from "../scim/schema/resource-types";

/**
 * Runs a list query with the client's `filter` parsed and checked against the resource type's schema. A filter
 * too large for one D1 statement is, to the client, an invalid filter like any other.
 */
export async function withFilter<T>(
  text: string | undefined,
  rt: ResourceTypeDef,
  query: (filter: CheckedFilter | undefined) => Promise<T>,
): Promise<T> {
  const filter = text === undefined ? undefined : checkFilter(parseFilter(text), rt);
  try {
    return await query(filter);
  } catch (error) {
    if (error instanceof FilterTooComplexError) throw badRequest("invalidFilter", error.message);
    throw error;
  }
}
