import { validator } from "hono-openapi";
import type { GenericSchema } from "valibot";
import { AdminError } from "../../services/errors";

/**
 * A valibot-validated JSON body whose failures become admin errors naming the offending field. hono-openapi's
 * validator (Standard Schema), so the same schema describes the body in the OpenAPI document.
 */
export function jsonBody<T extends GenericSchema>(schema: T) {
  return validator("json", schema, (result) => {
    if (result.success) return;
    const issue = result.error[0];
    const field = issue?.path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    throw new AdminError("invalid_request", field ? `${field}: ${issue?.message}` : (issue?.message ?? "invalid body"));
  });
}
