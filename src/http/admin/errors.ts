/** Admin API errors: `{ "error": { "code", "message" } }` with a stable, documented `code`. */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}

export function adminErrorResponse(error: AdminError) {
  return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status });
}

export const tenantNotFound = () => new AdminError(404, "tenant_not_found", "No tenant with this id.");
