import { type SQL, sql } from "drizzle-orm";

/**
 * Names of the top-level attributes that differ between a stored document (`stored`, JSON text in SQL) and `next`
 * (JSON text, bound or in SQL), as a JSON array: computed in the statement that reads the stored row, so no read precedes a write.
 */
export const changedKeys = (stored: SQL, next: SQL | string) => sql`(SELECT json_group_array(key) FROM (
    SELECT n.key FROM json_each(${next}) n
      WHERE NOT EXISTS (SELECT 1 FROM json_each(${stored}) o WHERE o.key = n.key AND o.type = n.type AND o.value IS n.value)
    UNION
    SELECT o.key FROM json_each(${stored}) o WHERE NOT EXISTS (SELECT 1 FROM json_each(${next}) n WHERE n.key = o.key)))`;

/**
 * The stored values of `keys` (a JSON array of attribute names) as one JSON object, null for an attribute that was
 * absent. `->` keeps JSON as JSON (booleans stay booleans); attribute names come from the schema or a validated
 * extension URN, so none holds a quote that would break the path.
 */
export const valuesOf = (stored: SQL, keys: SQL) =>
  sql`(SELECT json_group_object(c.value, ${stored} -> ('$."' || c.value || '"')) FROM json_each(${keys}) c)`;
