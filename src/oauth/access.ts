import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { isLoopback } from "./federation";

/**
 * Cloudflare Access in front of the operator's console. Access signs the vendor's people in (or lets a service token
 * through) and sends every request it passes on with a JWT in `Cf-Access-Jwt-Assertion`, signed with its team's keys.
 * The worker verifies that JWT itself on each request: a request that reaches the worker another way (its
 * workers.dev address, a route Access does not cover) carries none, or a forged one. The plain
 * `Cf-Access-Authenticated-User-Email` header is never read: anyone can send it.
 */
export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: the JWT's `iss`, exactly. */
  issuer: string;
  /** The Access application's AUD tag: one of the JWT's `aud`. */
  audience: string;
  /** Where the team publishes its signing keys (a test's local issuer instead, on loopback only). */
  certsUrl: string;
}

/** The vars that say how operators sign in to the console (src/env.ts documents each). */
export interface ConsoleSignInSettings {
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  ACCESS_CERTS_URL?: string;
  CONSOLE_KEY_SIGN_IN?: string;
}

/**
 * How operators sign in: through Access (`access`), with the admin key (`keySignIn`), or both (the key as a
 * break-glass way in); or why the settings are refused, in words that name what to fix.
 */
export type ConsoleSignIn =
  | { ok: true; access: AccessConfig | null; keySignIn: boolean }
  | { ok: false; reason: string };

/** A team domain's host: one DNS label of the team's name under Access's domain. */
const TEAM_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.cloudflareaccess\.com$/;
/** An Access application's AUD tag: 64 hex digits, as its Overview tab shows it. */
const AUD_TAG = /^[0-9a-f]{64}$/;

/**
 * The settings as one decision, refused rather than guessed at: half an Access configuration (one of the team domain
 * and the AUD tag), a team domain that is not `<team>.cloudflareaccess.com`, an AUD that is no tag, a certs URL off
 * loopback, or a key switch that is neither `on` nor `off` would each leave the console open in a way nobody chose,
 * so the console answers none of it (never falling back to the key). `CONSOLE_KEY_SIGN_IN` defaults to on without
 * Access and to off with it.
 */
export function consoleSignIn(settings: ConsoleSignInSettings): ConsoleSignIn {
  const team = (settings.ACCESS_TEAM_DOMAIN ?? "").trim().toLowerCase();
  const audience = (settings.ACCESS_AUD ?? "").trim().toLowerCase();
  const key = (settings.CONSOLE_KEY_SIGN_IN ?? "").trim();
  if (key !== "" && key !== "on" && key !== "off") {
    return { ok: false, reason: "CONSOLE_KEY_SIGN_IN must be on or off." };
  }
  if (team === "" && audience === "") return { ok: true, access: null, keySignIn: key !== "off" };
  if (team === "" || audience === "") {
    return { ok: false, reason: "ACCESS_TEAM_DOMAIN and ACCESS_AUD go together: set both, or neither." };
  }
  const host = team.replace(/^https:\/\//, "").replace(/\/$/, "");
  if (!TEAM_HOST.test(host)) {
    return { ok: false, reason: "ACCESS_TEAM_DOMAIN must be <team>.cloudflareaccess.com." };
  }
  if (!AUD_TAG.test(audience)) {
    return { ok: false, reason: "ACCESS_AUD must be the Access application's AUD tag (64 hex digits)." };
  }
  const issuer = `https://${host}`;
  const certsUrl = certsUrlOf(issuer, (settings.ACCESS_CERTS_URL ?? "").trim());
  if (certsUrl === null) {
    return { ok: false, reason: "ACCESS_CERTS_URL is for tests: it must be an http(s) URL on loopback." };
  }
  return { ok: true, access: { issuer, audience, certsUrl }, keySignIn: key === "on" };
}

/**
 * The team's certs URL, or the override a test's local issuer serves its keys at: honoured on loopback only, since
 * whoever set it elsewhere would choose the keys the console trusts. null: an override that is not on loopback.
 */
function certsUrlOf(issuer: string, override: string) {
  if (override === "") return `${issuer}/cdn-cgi/access/certs`;
  const url = URL.canParse(override) ? new URL(override) : null;
  return url && (url.protocol === "http:" || url.protocol === "https:") && isLoopback(url) ? url.href : null;
}

/**
 * Who Access let through: a person, named by the email Access signed them in with, or a service token (which has no
 * email), named by its common name (the token's client id). The name is the operator's in the audit log.
 */
export interface AccessIdentity {
  kind: "user" | "service";
  name: string;
}

/** The longest assertion read: Access's are about 1 KB; anything far larger is refused before parsing. */
export const MAX_ACCESS_ASSERTION_BYTES = 16 * 1024;
/** Clock skew allowed on `exp` and `nbf`. */
const SKEW_SECONDS = 60;
/** The longest name kept (an email address's limit): a longer one is no identity. */
const MAX_NAME_LENGTH = 320;

/** A refusal says why, for the log; `keysUnavailable`: the team's keys could not be fetched, so nothing was checked. */
export type AccessCheck =
  | { ok: true; identity: AccessIdentity }
  | { ok: false; reason: string; keysUnavailable?: true };

/**
 * jose's codes for a certs fetch that failed (a timeout, a response that was not 200 or no key set): the sign-in is
 * not refused for them, it cannot be checked now. A network error is not a JOSEError at all.
 */
const KEYS_UNAVAILABLE = new Set(["ERR_JWKS_TIMEOUT", "ERR_JOSE_GENERIC", "ERR_JWKS_INVALID"]);

/**
 * Whether `assertion` is a JWT the team's Access signed for this application, and whom it names: RS256 only (an HS256
 * or unsigned token is refused before any key is looked up), `iss` the team domain, `aud` containing the AUD tag,
 * `exp` required and `nbf` honoured within the skew. `keys` finds the signing key (the team's certs, fetched and
 * cached by the caller); the reason of a refusal is jose's error code, for the log.
 */
export async function checkAccessAssertion(
  assertion: string,
  config: AccessConfig,
  keys: JWTVerifyGetKey,
  now: number,
): Promise<AccessCheck> {
  if (assertion.length > MAX_ACCESS_ASSERTION_BYTES) return { ok: false, reason: "assertion too large" };
  try {
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: ["RS256"],
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: SKEW_SECONDS,
      currentDate: new Date(now),
      requiredClaims: ["exp"],
    });
    const identity = identityOf(payload);
    return identity ? { ok: true, identity } : { ok: false, reason: "neither email nor common_name" };
  } catch (error) {
    if (!(error instanceof errors.JOSEError)) return { ok: false, reason: String(error), keysUnavailable: true };
    return KEYS_UNAVAILABLE.has(error.code)
      ? { ok: false, reason: error.code, keysUnavailable: true }
      : { ok: false, reason: error.code };
  }
}

/** A person's email, else a service token's common name (a person's token has no common name). */
function identityOf(payload: JWTPayload): AccessIdentity | null {
  const named = (value: unknown) =>
    typeof value === "string" && value !== "" && value.length <= MAX_NAME_LENGTH ? value : null;
  const email = named(payload.email);
  if (email) return { kind: "user", name: email };
  const commonName = named(payload.common_name);
  return commonName ? { kind: "service", name: commonName } : null;
}
