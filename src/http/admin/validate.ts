import { sValidator } from "@hono/standard-validator";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { GenericSchema } from "valibot";
import { AdminError } from "../../services/errors";
import { describing } from "./openapi";

/**
 * Request validation with valibot (as a Standard Schema), the schema also describing the body or the query in the
 * OpenAPI document (http/admin/openapi.ts). A failure is an admin error naming the offending field.
 */
function refuse(result: { success: true } | { success: false; error: readonly StandardSchemaV1.Issue[] }) {
  if (result.success) return;
  const issue = result.error[0];
  const field = issue?.path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".");
  throw new AdminError(
    "invalid_request",
    field ? `${field}: ${issue?.message}` : (issue?.message ?? "invalid request"),
  );
}

/** A JSON body. */
export const jsonBody = <T extends GenericSchema>(schema: T) =>
  describing(sValidator("json", schema, refuse), { kind: "input", target: "json", schema });

/** Query parameters. */
export const queryOf = <T extends GenericSchema>(schema: T) =>
  describing(sValidator("query", schema, refuse), { kind: "input", target: "query", schema });
