import { createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, jwtVerify } from "jose";

/**
 * Workload identity federation (RFC 7523 §2.2, as Entra uses it for SCIM provisioning): Entra signs a JWT as its
 * provisioning service's workload identity and presents it as a client assertion at the token endpoint. What the
 * customer's admin copied from Entra's screen (the issuer, the subject, the audience) is the trust; Microsoft's
 * signing keys are shared across its tenants, so the signature alone says nothing of who sent it. jose checks the
 * JWS (a well-kept library for the part where hand-written code goes wrong); the rules around it are ours.
 */
export interface Federation {
  /** `https://login.microsoftonline.com/<tenant>/v2.0`, as the assertion's `iss` says it. */
  issuer: string;
  /** The issuer's Entra tenant: the assertion's `tid`. */
  tenantId: string;
  /** The provisioning service's workload identity (object id). */
  subject: string;
  /** `api://<app id>`: what Entra shows as `api://<app id>/.default`, without the scope suffix. */
  audience: string;
  jwksUrl: string;
}

/** Microsoft's login hosts, public and sovereign clouds: where its signing keys are published. */
const MICROSOFT_LOGIN_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoftonline.us",
  "login.partner.microsoftonline.cn",
  "login.chinacloudapi.cn",
]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An audience as Entra shows it or puts it in `aud`: the `/.default` scope suffix and trailing slashes dropped. */
export const normalAudience = (audience: string) =>
  withoutTrailingSlashes(audience.trim().replace(/\/\.default$/i, ""));

/** `text` without its trailing slashes (a loop: a regular expression for it backtracks on a run of slashes). */
function withoutTrailingSlashes(text: string) {
  let end = text.length;
  while (end > 0 && text[end - 1] === "/") end--;
  return text.slice(0, end);
}

/**
 * An issuer with or without its `/v2.0` (Entra's screens differ), compared as the v2.0 issuer Entra signs with, in
 * lower case (its host and its tenant's GUID are case-insensitive).
 */
export function normalIssuer(issuer: string) {
  const trimmed = withoutTrailingSlashes(issuer.trim().toLowerCase());
  return /\/v2\.0$/i.test(trimmed) ? trimmed : `${trimmed}/v2.0`;
}

/** A URL on this machine: where tests serve their own keys (a loopback name never leaves the host). */
export const isLoopback = (url: URL) => ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);

/**
 * A JWKS URL the deployment fetches keys from: on one of Microsoft's login hosts over https, or on an origin it lists
 * (https, or http on loopback). Checked at registration and again before each fetch, so an origin taken off the list
 * stops being read at once.
 */
export function jwksTrusted(url: URL, allowedOrigins: readonly string[]) {
  const microsoft = url.protocol === "https:" && MICROSOFT_LOGIN_HOSTS.has(url.hostname);
  return microsoft || (allowedOrigins.includes(url.origin) && (url.protocol === "https:" || isLoopback(url)));
}

/**
 * The federation as configured: normalised, the JWKS URL derived from the issuer when none is given, and every
 * rule checked. An error names what to fix (the admin API's 400). `allowedOrigins`: origins beyond Microsoft's
 * login hosts a deployment trusts (WIF_ALLOWED_JWKS_ORIGINS), https only but for loopback (tests' local issuer).
 */
export function federationOf(
  input: { issuer: string; subject: string; audience: string; jwksUrl?: string },
  allowedOrigins: readonly string[],
): { ok: true; federation: Federation } | { ok: false; error: string } {
  const issuer = normalIssuer(input.issuer);
  if (!URL.canParse(issuer)) return { ok: false, error: "federation.issuer: must be a URL." };
  const issuerUrl = new URL(issuer);
  const [tenantId] = issuerUrl.pathname.split("/").filter(Boolean);
  if (!tenantId || !GUID.test(tenantId)) {
    return {
      ok: false,
      error: "federation.issuer: must name the Entra tenant, https://login.microsoftonline.com/<tenant id>/v2.0.",
    };
  }
  const jwksUrl = input.jwksUrl?.trim() || `https://${issuerUrl.host}/${tenantId}/discovery/v2.0/keys`;
  if (!URL.canParse(jwksUrl)) return { ok: false, error: "federation.jwksUrl: must be a URL." };
  const keys = new URL(jwksUrl);
  if (!jwksTrusted(keys, allowedOrigins)) {
    return {
      ok: false,
      error: `federation.jwksUrl: ${keys.origin} is not one of Microsoft's login hosts (${[...MICROSOFT_LOGIN_HOSTS].join(", ")}) nor an origin this deployment trusts.`,
    };
  }
  const subject = input.subject.trim();
  const audience = normalAudience(input.audience);
  if (!subject) return { ok: false, error: "federation.subject: must not be empty." };
  if (!audience) return { ok: false, error: "federation.audience: must not be empty." };
  return { ok: true, federation: { issuer, tenantId: tenantId.toLowerCase(), subject, audience, jwksUrl } };
}

/** The longest assertion read: Entra's are about 1.5 KB; anything far larger is refused before parsing. */
export const MAX_ASSERTION_BYTES = 8192;
/** Clock skew allowed on `exp`, `nbf` and `iat`. */
const SKEW_SECONDS = 300;
/** The longest an assertion may be valid (`exp − iat`); Entra's live about 65 minutes. */
const MAX_LIFETIME_SECONDS = 86_400;

export type AssertionCheck = { ok: true } | { ok: false; reason: string };

/**
 * The `kid` of an assertion's header, read before any key is fetched (which keys to look for), or why none: too
 * large, not a JWS, no kid.
 */
export function assertionKid(assertion: string): { kid: string } | { reason: string } {
  if (assertion.length > MAX_ASSERTION_BYTES) return { reason: "assertion too large" };
  try {
    const { kid } = decodeProtectedHeader(assertion);
    return typeof kid === "string" && kid !== "" ? { kid } : { reason: "kid required" };
  } catch {
    return { reason: "not a JWS" };
  }
}

/**
 * Whether `assertion` is a JWT this federation's workload identity signed, under one of `keys`: RS256 only, a `kid`
 * naming a key of the set, iss/sub/aud/tid as configured, exp/nbf within the skew, at most a day's lifetime. No `jti`
 * is required, and reuse within the assertion's lifetime is allowed (Entra reuses its assertion within a cycle).
 */
export async function checkAssertion(
  assertion: string,
  federation: Federation,
  keys: JSONWebKeySet,
  now: number,
): Promise<AssertionCheck> {
  if (assertion.length > MAX_ASSERTION_BYTES) return { ok: false, reason: "assertion too large" };
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(assertion);
    if (header.alg !== "RS256") return { ok: false, reason: `alg ${String(header.alg)} refused; RS256 only` };
    if (typeof header.kid !== "string" || header.kid === "") return { ok: false, reason: "kid required" };
    kid = header.kid;
  } catch {
    return { ok: false, reason: "not a JWS" };
  }
  if (!keys.keys.some((key) => key.kid === kid)) return { ok: false, reason: "unknown kid" };
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(keys), {
      algorithms: ["RS256"],
      clockTolerance: SKEW_SECONDS,
      currentDate: new Date(now),
      requiredClaims: ["iss", "sub", "aud", "exp", "iat"],
    });
    if (normalIssuer(String(payload.iss)) !== federation.issuer) return { ok: false, reason: "iss" };
    if (payload.sub !== federation.subject) return { ok: false, reason: "sub" };
    const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const trusted = (aud: unknown) => typeof aud === "string" && normalAudience(aud) === federation.audience;
    if (!audiences.some(trusted)) return { ok: false, reason: "aud" };
    if (String(payload.tid ?? "").toLowerCase() !== federation.tenantId) return { ok: false, reason: "tid" };
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > MAX_LIFETIME_SECONDS) return { ok: false, reason: "lifetime" };
    return { ok: true };
  } catch (error) {
    if (error instanceof errors.JOSEError) return { ok: false, reason: error.code };
    throw error;
  }
}
