import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { logEvent } from "../../lib/log";
import { allowedOrigins } from "../../lib/urls";
import { recordRequestFailure } from "../../services/logs";
import { accessTokenTtl, exchangeAssertion, exchangeClientSecret, type TokenOutcome } from "../../services/oauth";
import { tokenSigningKeys } from "../../services/tokens";
import { verifiedClientId } from "../../tokens/client-credentials";

/** RFC 7523 §2.2's client assertion type: a JWT the client's identity platform signed. */
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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
function basicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | null | undefined {
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
  const assertion = single("client_assertion");
  const assertionType = single("client_assertion_type");
  const methods = [basic !== undefined, posted.clientSecret !== undefined, assertion !== undefined];
  if (methods.filter(Boolean).length > 1) {
    return refuse(
      "invalid_request",
      "Authenticate the client one way: HTTP Basic, client_secret or a client assertion.",
    );
  }
  if (assertion !== undefined && assertionType !== JWT_BEARER) {
    return refuse("invalid_request", `client_assertion_type must be ${JWT_BEARER}.`);
  }
  const viaBasic = basic !== undefined;
  const challenge: Record<string, string> = viaBasic ? { "WWW-Authenticate": 'Basic realm="oauth2"' } : {};
  if (basic && posted.clientId !== undefined && posted.clientId !== basic.clientId) {
    return refuse("invalid_request", "client_id differs from the client HTTP Basic authenticates.");
  }
  const signingKeys = tokenSigningKeys(c.env.TOKEN_SIGNING_KEYS);
  // A client id this deployment did not make is refused first: it costs a MAC, no budget and no storage.
  const presented = basic?.clientId ?? posted.clientId;
  const clientId = presented ? await verifiedClientId(signingKeys, presented) : null;
  if (!clientId) {
    return refuse("invalid_client", "Client authentication failed.", 401, challenge);
  }

  // Per client, and per client from one address: Entra's provisioning service calls from addresses every customer
  // shares, so an address alone would make one customer's retries another's refusals.
  const address = c.req.header("CF-Connecting-IP") ?? "unknown";
  const limiter = c.env.TOKEN_RATE_LIMITER;
  const [byClient, byAddress] = await Promise.all([
    limiter.limit({ key: `client:${clientId}` }),
    limiter.limit({ key: `address:${address}:${clientId}` }),
  ]);
  if (!byClient.success || !byAddress.success) {
    return refuse("temporarily_unavailable", "Too many token requests; retry shortly.", 429, { "Retry-After": "10" });
  }

  const ctx = {
    db: c.var.databases.control,
    kv: c.env.TOKENS,
    now: c.var.now,
    signingKeys,
    ttlSeconds: accessTokenTtl(c.env.OAUTH_TOKEN_TTL_SECONDS),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
    allowedJwksOrigins: allowedOrigins(c.env.WIF_ALLOWED_JWKS_ORIGINS),
  };
  const secret = basic?.clientSecret ?? posted.clientSecret;
  let outcome: TokenOutcome | null;
  try {
    outcome =
      assertion !== undefined
        ? await exchangeAssertion(ctx, clientId, assertion)
        : secret !== undefined
          ? await exchangeClientSecret(ctx, { clientId, clientSecret: secret })
          : null;
  } catch (error) {
    // Storage failed (KV or D1): said as RFC 6749 says errors, so Entra retries, not in the admin API's shape.
    logEvent("error", "token_request_failed", { error: String(error) });
    return refuse("temporarily_unavailable", "The service is briefly unavailable; retry.", 503, {
      "Retry-After": "10",
    });
  }
  if (!outcome?.ok) {
    // Which client and why, never a secret or an assertion; a forged client id names no tenant. A known client's
    // refusal goes to its integration's failed-request log too, where its admin looks when Test Connection fails.
    const grant = outcome?.grant;
    const reason = outcome?.reason ?? "client authentication failed";
    logEvent("warn", "token_request_refused", {
      ...(grant ? { tenantId: grant.tenantId, integrationId: grant.integrationId } : {}),
      reason,
    });
    if (grant) {
      const db = c.var.databases.tenant({ id: grant.tenantId, database: grant.database });
      const failure = {
        method: "POST",
        path: "/oauth2/token",
        status: 401,
        scimType: "invalid_client",
        detail: reason,
      };
      c.executionCtx.waitUntil(
        recordRequestFailure(
          { db, tenantId: grant.tenantId, integrationId: grant.integrationId, tokenId: "token-endpoint", now: ctx.now },
          failure,
        ).catch((error) => logEvent("error", "failed_request_log_error", { error: String(error) })),
      );
    }
    return refuse("invalid_client", "Client authentication failed.", 401, challenge);
  }
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
