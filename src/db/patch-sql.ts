import { type SQL, sql } from "drizzle-orm";
import { type ElementTest, isQuotable, type PatchPlan, type PlanStep } from "../scim/patch-plan";
import { MAX_DOCUMENT_CHARS, MAX_MULTI_VALUES } from "../scim/resource-input";
import { users } from "./schema";

/**
 * A PATCH plan (scim/patch-plan.ts) as SQL: the user's next row computed from the stored one inside the statement
 * that writes it, so the write needs no read before it and no version to compare (a D1 batch runs alone). The key
 * columns are the worker's values where the plan sets them, the work email's key is read from the new folded copy
 * when the emails change, and every other column stays as stored.
 *
 * The document and its folded copy travel together with the plan's values as one JSON value `p`
 * (`{ d, f, v }`: one bound parameter, however many values; D1 binds at most 100 per statement), and each step is
 * a materialized CTE over the previous one: a step reads `p` several times, and inlining would repeat the steps
 * before it in each place. Values are passed as JSON text made by JSON.stringify and kept as JSON by SQLite, which
 * also keeps the stored text's escapes and numbers as they are, so the result is the text JSON.stringify would give
 * (the property test compares them byte for byte).
 */
export function patchedUser(tenantId: string, id: string, plan: PatchPlan): SQL {
  const values: unknown[] = [];
  const value: Value = (v, as = "json") => {
    values.push(v);
    const at = `'$.v[${values.length - 1}]'`;
    return sql.raw(as === "json" ? `json(p -> ${at})` : `p ->> ${at}`);
  };
  const stages = plan.steps.flatMap((step) => stagesOf(step, value));
  const ctes = stages.map(
    (stage, i) => sql`, s${sql.raw(String(i + 1))} AS MATERIALIZED (${stage} FROM s${sql.raw(String(i))})`,
  );
  const last = sql.raw(`s${stages.length}`);
  const { columns } = plan;
  const stored = (column: string) => sql.raw(`s.${column}`);
  return sql`(WITH s0 AS MATERIALIZED (SELECT json_object('d', json(data), 'f', json(folded), 'v', json(${JSON.stringify(values)})) AS p
      FROM ${users} WHERE tenant_id = ${tenantId} AND id = ${id})${sql.join(ctes, sql``)}
    SELECT d AS next_data, f AS next_folded,
      ${columns.userName ? sql`${columns.userName.value}` : stored("user_name")} AS next_user_name,
      ${columns.userName ? sql`${columns.userName.key}` : stored("user_name_key")} AS next_user_name_key,
      ${columns.externalId !== undefined ? sql`${columns.externalId}` : stored("external_id")} AS next_external_id,
      ${columns.displayNameKey !== undefined ? sql`${columns.displayNameKey}` : stored("display_name_key")} AS next_display_name_key,
      ${columns.workEmail ? workEmailKey(sql`f`) : stored("work_email_key")} AS next_work_email_key,
      ${columns.active !== undefined ? sql`${columns.active ? 1 : 0}` : stored("active")} AS next_active,
      ${within(sql`d`)} AS next_within
    FROM (SELECT p -> '$.d' AS d, p -> '$.f' AS f FROM ${last}), ${users} s WHERE s.tenant_id = ${tenantId} AND s.id = ${id})`;
}

/**
 * The folded value of the first email whose folded type is "work" (scim/users.ts workEmailValue), from the folded
 * copy: the key Entra's matching and the console's search read.
 */
const workEmailKey = (f: SQL) => sql`(SELECT CASE WHEN json_type(w.e, '$.value') = 'text' THEN w.e ->> '$.value' END
  FROM (SELECT iif(e.type = 'object', e.value, '{}') AS e, e.key FROM json_each(${f}, '$.emails') e) w
  WHERE json_type(w.e, '$.type') = 'text' AND w.e ->> '$.type' = 'work' ORDER BY w.key LIMIT 1)`;

/**
 * Whether the document is surely within assertWithinLimits' bounds (resource-input.ts): no array of over
 * MAX_MULTI_VALUES at the top or in an extension, and at most MAX_DOCUMENT_CHARS UTF-8 bytes, which bounds its
 * UTF-16 length (what JavaScript measures) from above. Not sure: the request takes the read-modify-write path,
 * which knows.
 */
const within = (d: SQL) => {
  const tooLong = sql`iif(t.type = 'array', json_array_length(t.value), 0) > ${sql.raw(String(MAX_MULTI_VALUES))}`;
  return sql`(length(CAST(${d} AS BLOB)) <= ${sql.raw(String(MAX_DOCUMENT_CHARS))}
    AND NOT EXISTS (SELECT 1 FROM json_each(${d}) t WHERE ${tooLong})
    AND NOT EXISTS (SELECT 1 FROM json_each(${d}) o, json_each(iif(o.type = 'object', o.value, '{}')) t WHERE ${tooLong}))`;
};

/**
 * A name quoted into a JSON path inside an SQL string literal. The plan admits no key that cannot be (patch-plan.ts
 * isSayable), and sub-attributes are the schema's names; this keeps it so.
 */
function quoted(name: string) {
  if (!isQuotable(name)) throw new Error(`unexpected name in a patch path: ${name}`);
  return `"${name}"`;
}

/** A JSON path into the document (`d`) or its folded copy (`f`), as an SQL string literal. */
const pathOf = (side: "d" | "f", keys: string[], suffix = "") =>
  sql.raw(`'$.${side}${keys.map((k) => `.${quoted(k)}`).join("")}${suffix}'`);

/** The JSON path of a sub-attribute inside an element, as an SQL string literal. */
const memberPath = (name: string) => sql.raw(`'$.${quoted(name)}'`);

/** The element `e` (a json_each row over the array at `keys`) of one side, as JSON. */
const elementOf = (side: "d" | "f", keys: string[]) => sql`(p -> (${pathOf(side, keys, "[")} || e.key || ']'))`;

/** One of the plan's values, carried in `p`: as JSON (what json_set writes), or as SQL text (what compares). */
type Value = (v: unknown, as?: "json" | "text") => SQL;

/** The test on an element (JSON text) of the folded copy. */
function passes(element: SQL, test: ElementTest, value: Value) {
  const at = memberPath(test.sub);
  if (typeof test.equals === "boolean") return sql`json_type(${element}, ${at}) = ${sql.raw(`'${test.equals}'`)}`;
  return sql`(json_type(${element}, ${at}) = 'text' AND ${element} ->> ${at} = ${value(test.equals, "text")})`;
}

/** One step as the SELECTs (each `SELECT <p> AS p`, the FROM added by the caller) that apply it in turn. */
function stagesOf(step: PlanStep, value: Value): SQL[] {
  switch (step.kind) {
    case "set":
      return [
        sql`SELECT json_set(p, ${pathOf("d", step.keys)}, ${value(step.value)}, ${pathOf("f", step.keys)}, ${value(step.folded)}) AS p`,
      ];
    case "remove": {
      const removed = sql`json_remove(p, ${pathOf("d", step.keys)}, ${pathOf("f", step.keys)})`;
      const first = step.when
        ? sql`SELECT CASE WHEN ${passes(sql`(p -> ${pathOf("f", step.when.at)})`, step.when.test, value)} THEN ${removed} ELSE p END AS p`
        : sql`SELECT ${removed} AS p`;
      // Containers the removal leaves empty go too, the innermost first (writeAttribute stores no `{}`).
      const prunes = step.keys
        .slice(0, -1)
        .map((_, i) => step.keys.slice(0, step.keys.length - 1 - i))
        .map(
          (container) =>
            sql`SELECT CASE WHEN p -> ${pathOf("d", container)} = '{}' THEN json_remove(p, ${pathOf("d", container)}, ${pathOf("f", container)}) ELSE p END AS p`,
        );
      return [first, ...prunes];
    }
    case "merge": {
      const rebuilt = (side: "d" | "f", subs: Record<string, unknown>) => {
        const pairs = Object.entries(subs).map(([sub, v]) => sql`, ${memberPath(sub)}, ${value(v)}`);
        const changed =
          pairs.length === 0
            ? elementOf(side, step.keys)
            : sql`json_set(${elementOf(side, step.keys)}${sql.join(pairs, sql``)})`;
        return sql`(SELECT json_group_array(json(CASE WHEN ${passes(elementOf("f", step.keys), step.test, value)}
            THEN ${changed} ELSE ${elementOf(side, step.keys)} END) ORDER BY e.key) FROM json_each(p, ${pathOf(side, step.keys)}) e)`;
      };
      return [
        sql`SELECT CASE WHEN EXISTS (SELECT 1 FROM json_each(p, ${pathOf("f", step.keys)}) e WHERE ${passes(elementOf("f", step.keys), step.test, value)})
          THEN json_set(p, ${pathOf("d", step.keys)}, json(${rebuilt("d", step.value)}), ${pathOf("f", step.keys)}, json(${rebuilt("f", step.folded)}))
          ELSE json_insert(p, ${pathOf("d", step.keys, "[#]")}, ${value(step.created)}, ${pathOf("f", step.keys, "[#]")}, ${value(step.createdFolded)}) END AS p`,
      ];
    }
    case "strip": {
      const hit = passes(elementOf("f", step.keys), step.test, value);
      const strip = (side: "d" | "f") =>
        step.sub === null ? sql`NULL` : sql`json_remove(${elementOf(side, step.keys)}, ${memberPath(step.sub)})`;
      // The same elements go from both sides: those that pass and are left empty (judged on the document).
      const kept = sql`NOT (${hit} AND coalesce(${strip("d")} = '{}', 1))`;
      const rebuilt = (side: "d" | "f") =>
        sql`(SELECT json_group_array(json(CASE WHEN ${hit} THEN ${strip(side)} ELSE ${elementOf(side, step.keys)} END) ORDER BY e.key)
          FROM json_each(p, ${pathOf(side, step.keys)}) e WHERE ${kept})`;
      return [
        sql`SELECT p, ${rebuilt("d")} AS nd, ${rebuilt("f")} AS nf`,
        sql`SELECT CASE WHEN json_type(p, ${pathOf("d", step.keys)}) IS NOT 'array' THEN p
          WHEN json_array_length(nd) = 0 THEN json_remove(p, ${pathOf("d", step.keys)}, ${pathOf("f", step.keys)})
          ELSE json_set(p, ${pathOf("d", step.keys)}, json(nd), ${pathOf("f", step.keys)}, json(nf)) END AS p`,
      ];
    }
  }
}
