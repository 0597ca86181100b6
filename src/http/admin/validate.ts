import { vValidator } from "@hono/valibot-validator";
import type { GenericSchema } from "valibot";
import { AdminError } from "../../services/errors";

/** valibot-validated JSON body whose failures become admin errors naming the offending field. */
export function jsonBody<T extends GenericSchema>(schema: T) {
  return vValidator("json", schema, (result) => {
    if (result.success) return;
    const issue = result.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join(".");
    throw new AdminError("invalid_request", field ? `${field}: ${issue.message}` : issue.message);
  });
}
