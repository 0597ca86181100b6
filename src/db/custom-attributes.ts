import { asc, type SQL, sql } from "drizzle-orm";
import type { CustomAttributeType } from "../scim/attribute-paths";
import { rowsOf, runBatch } from "./batch";
import type { ControlDb } from "./client";
import { customAttributes, roleMappings } from "./schema";

/** A vendor's custom attribute as the admin API takes and shows it; its place in the list is its order. */
export interface CustomAttribute {
  key: string;
  type: CustomAttributeType;
  description: string | null;
}

export const readCustomAttributes = async (db: ControlDb): Promise<CustomAttribute[]> =>
  (await db.select().from(customAttributes).orderBy(asc(customAttributes.priority))).map(
    ({ priority: _, ...attribute }) => attribute,
  );

/** How many uses of a dropped or retyped attribute a refusal names. */
const USES_SHOWN = 10;

/**
 * Replaces the deployment's custom attributes in the control database, in one batch, unless an attribute mapping
 * fills an attribute the list drops or gives another type (the stored values were checked against the old one):
 * then nothing changes and the uses are returned, `(tenant, integration, key)`. Read inside the batch, as for roles.
 * Only the control database holds them: a mapping carries its attributes' types, which is all the data's SQL reads.
 */
export async function replaceCustomAttributes(db: ControlDb, items: readonly CustomAttribute[]) {
  const kept = JSON.stringify(items.map(({ key, type }) => ({ key, type })));
  const uses = (limit: number) => sql`SELECT rm.tenant_id AS tenantId, rm.integration_id AS integrationId,
      item.value ->> 'key' AS key
    FROM ${roleMappings} rm, json_each(rm.attributes) item
    WHERE NOT EXISTS (SELECT 1 FROM json_each(${kept}) k
      WHERE k.value ->> 'key' = item.value ->> 'key' AND k.value ->> 'type' = item.value ->> 'type')
    LIMIT ${limit}`;
  const unused: SQL = sql`NOT EXISTS (${uses(1)})`;
  const [found] = await runBatch(db, [
    uses(USES_SHOWN),
    sql`DELETE FROM ${customAttributes} WHERE ${unused}`,
    ...items.map(
      (a, priority) => sql`INSERT INTO ${customAttributes} (key, type, description, priority)
        SELECT ${a.key}, ${a.type}, ${a.description ?? null}, ${priority} WHERE ${unused}`,
    ),
  ]);
  return rowsOf(found) as { tenantId: string; integrationId: string; key: string }[];
}
