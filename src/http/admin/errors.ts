import type { AdminError } from "../../services/errors";

/** `{ "error": { "code", "message" } }`: the body of every admin API failure. */
export function adminErrorResponse(error: AdminError) {
  return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status });
}
