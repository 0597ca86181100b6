/**
 * The admin API's error vocabulary, closed: every code a client can see, with the one status it always comes
 * with. Adding a code means adding it here, which makes the status map (and the README's table) say what it is.
 */
export const ADMIN_ERROR_STATUS = {
  invalid_request: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  quota_exceeded: 403,
  not_found: 404,
  tenant_not_found: 404,
  integration_not_found: 404,
  secret_not_found: 404,
  user_not_found: 404,
  group_not_found: 404,
  webhook_not_found: 404,
  move_not_found: 404,
  azure_ad_disabled: 409,
  integration_exists: 409,
  provider_not_allowed: 409,
  takeover_exists: 409,
  takeover_unmatched: 409,
  wrong_authentication: 409,
  too_many_secrets: 409,
  last_secret: 409,
  secrets_rate_limited: 429,
  user_exists: 409,
  token_superseded: 409,
  webhook_disabled: 409,
  move_in_progress: 409,
  move_switched: 409,
  role_in_use: 409,
  unknown_role: 409,
  attribute_in_use: 409,
  unknown_attribute: 409,
  mapping_changed: 412,
  cursor_expired: 410,
  internal_error: 500,
  storage_unavailable: 503,
  tenant_moving: 503,
} as const satisfies Record<string, 400 | 401 | 403 | 404 | 409 | 410 | 412 | 429 | 500 | 503>;

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS;

/** Admin API errors: `{ "error": { "code", "message" } }`, the status following from the code. */
export class AdminError extends Error {
  readonly status: (typeof ADMIN_ERROR_STATUS)[AdminErrorCode];

  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
    this.status = ADMIN_ERROR_STATUS[code];
  }
}

export const tenantNotFound = () => new AdminError("tenant_not_found", "No tenant with this id.");

/** Why every token of a tenant is revoked at once: the integration was removed, or the Azure AD option turned off. */
export type RevocationReason = "integration_deleted" | "azure_ad_disabled";

/** What a token change had committed in D1: a new integration's first token, a rotation, or a revocation of all. */
export type CommittedTokenChange = "issued" | "rotated" | RevocationReason;

/**
 * A token change whose D1 batch committed, then a KV step after it failed (`cause`). The change stands, so a caller
 * must not say that nothing changed: a new token works (authentication falls back to D1 on a KV miss) but its value
 * was never shown, and an ended token's KV entry may still let it in until the hourly housekeeping after its end
 * deletes it. The admin API answers it by its cause, as the storage failure it is (app.ts reads a cause's message);
 * its own message repeats the cause's for the log line.
 */
export class CommittedButUnpublished extends Error {
  constructor(
    readonly change: CommittedTokenChange,
    cause: unknown,
  ) {
    super(`The change (${change}) was saved, then its KV step failed: ${String(cause)}`, { cause });
    this.name = "CommittedButUnpublished";
  }
}
