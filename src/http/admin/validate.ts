import type { StandardSchemaV1 } from "@standard-schema/spec";
import { validator } from "hono-openapi";
import type { GenericSchema } from "valibot";
import { AdminError } from "../../services/errors";

/**
 * Request validation with valibot through hono-openapi's validator (Standard Schema), so the same schema describes
 * the body or the query in the OpenAPI document. A failure is an admin error naming the offending field.
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
export const jsonBody = <T extends GenericSchema>(schema: T) => validator("json", schema, refuse);

/** Query parameters. */
export const queryOf = <T extends GenericSchema>(schema: T) => validator("query", schema, refuse);
