/**
 * RFC 7644 §3.12 errors. Thrown anywhere below a SCIM route and rendered once by the app's error handler, so every
 * failure has the same body shape and media type.
 */
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/**
 * RFC 7644 §3.12: every scimType comes with 400, except uniqueness (409). An error with a scimType takes its status
 * from here, so the two cannot disagree.
 */
export const SCIM_TYPE_STATUS = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 400,
} as const;

export type ScimType = keyof typeof SCIM_TYPE_STATUS;

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;

  /** A status for errors RFC 7644 gives no scimType (404, 412, 429, …), or a scimType, which brings its status. */
  constructor(
    kind: number | ScimType,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ScimError";
    this.status = typeof kind === "number" ? kind : SCIM_TYPE_STATUS[kind];
    this.scimType = typeof kind === "number" ? undefined : kind;
  }

  toBody() {
    return {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

export const badRequest = (scimType: Exclude<ScimType, "uniqueness">, detail: string) =>
  new ScimError(scimType, detail);
export const notFound = (detail: string) => new ScimError(404, detail);
export const conflict = (detail: string) => new ScimError("uniqueness", detail);
export const unauthorized = () =>
  new ScimError(401, "Authentication failed: a valid bearer token for this tenant is required.", {
    "WWW-Authenticate": 'Bearer realm="scim"',
  });
