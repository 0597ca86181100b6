import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { accessTokenTtl, type ClientAuthentication, exchangeClientSecret } from "../../services/oauth";
import { tokenSigningKeys } from "../../services/tokens";

/** RFC 6749 §5.2's error codes this endpoint answers with. */
type OAuthError = "invalid_request" | "invalid_client" | "unsupported_grant_type" | "temporarily_unavailable";

/** The answer of every token request: never cached (RFC 6749 §5.1), JSON. */
const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

function refuse(error: OAuthError, description: string, status = 400, headers: Record<string, string> = {}) {
  return Response.json({ error, error_description: description }, { status, headers: { ...NO_STORE, ...headers } });
}

/**
 * The client's authentication from HTTP Basic (RFC 6749 §2.3.1: id and secret form-urlencoded, then base64), or
 * `undefined` without the header, or null for a header that is not Basic credentials.
 */
function basicCredentials(header: string | undefined): ClientAuthentication | null | undefined {
  if (header === undefined) return undefined;
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (!encoded) return null;
  try {
    const decoded = atob(encoded);
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    const part = (text: string) => decodeURIComponent(text.replaceAll("+", " "));
    return { clientId: part(decoded.slice(0, colon)), clientSecret: part(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * `POST /oauth2/token`: one token endpoint for the deployment (a gallery app's token URL is fixed by its template, not
 * per customer). Client credentials (RFC 6749 §4.4), the client authenticated by `client_secret_post` or HTTP Basic,
 * never both (§2.3.1). Any `scope` is accepted and echoed (Entra sends `scim` or `scim.readwrite`). Each client id
 * and each client address has a budget, spent before any storage is read.
 */
export const oauthRouter = new Hono<AppEnv>().post("/token", async (c) => {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    return refuse("invalid_request", "The request must be application/x-www-form-urlencoded.");
  }
  const form = new URLSearchParams(await c.req.text());
  // RFC 6749 §3.2: request parameters must not be included more than once.
  if ([...form.keys()].some((key) => form.getAll(key).length > 1)) {
    return refuse("invalid_request", "A parameter is repeated.");
  }
  const single = (name: string) => form.get(name) ?? undefined;
  const grantType = single("grant_type");
  if (grantType === undefined) return refuse("invalid_request", "grant_type is required.");
  if (grantType !== "client_credentials") {
    return refuse("unsupported_grant_type", "Only grant_type=client_credentials is supported.");
  }
  const basic = basicCredentials(c.req.header("Authorization"));
  const posted = { clientId: single("client_id"), clientSecret: single("client_secret") };
  if (basic !== undefined && posted.clientSecret !== undefined) {
    return refuse("invalid_request", "Authenticate the client one way: HTTP Basic or client_secret, not both.");
  }
  const viaBasic = basic !== undefined;
  const challenge: Record<string, string> = viaBasic ? { "WWW-Authenticate": 'Basic realm="oauth2"' } : {};
  const auth =
    basic ??
    (posted.clientId && posted.clientSecret ? { clientId: posted.clientId, clientSecret: posted.clientSecret } : null);
  if (!auth) return refuse("invalid_client", "Client authentication failed.", 401, challenge);

  const address = c.req.header("CF-Connecting-IP") ?? "unknown";
  const limiter = c.env.TOKEN_RATE_LIMITER;
  const [byClient, byAddress] = await Promise.all([
    limiter.limit({ key: `client:${auth.clientId.slice(0, 64)}` }),
    limiter.limit({ key: `address:${address}` }),
  ]);
  if (!byClient.success || !byAddress.success) {
    return refuse("temporarily_unavailable", "Too many token requests; retry shortly.", 429, { "Retry-After": "10" });
  }

  const ttlSeconds = accessTokenTtl(c.env.OAUTH_TOKEN_TTL_SECONDS);
  const outcome = await exchangeClientSecret(
    {
      db: c.var.databases.control,
      kv: c.env.TOKENS,
      now: c.var.now,
      signingKeys: tokenSigningKeys(c.env.TOKEN_SIGNING_KEYS),
      ttlSeconds,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
    },
    auth,
  );
  if (!outcome.ok) return refuse("invalid_client", "Client authentication failed.", 401, challenge);
  const scope = single("scope");
  return c.json(
    {
      access_token: outcome.accessToken,
      token_type: "Bearer",
      expires_in: outcome.expiresIn,
      ...(scope ? { scope } : {}),
    },
    200,
    NO_STORE,
  );
});
