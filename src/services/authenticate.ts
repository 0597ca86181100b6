import type { ControlDb } from "../db/client";
import { findLiveTokenByHash, recordTokenUse } from "../db/tokens";
import { ScimError } from "../scim/errors";
import { grantDatabase, grantIntegration, REFILL_TTL_SECONDS, readGrant } from "../tokens/grants";
import type { SigningSecrets } from "../tokens/signing";
import { hashToken, hasValidMac, tokenKind } from "../tokens/token";
import { grantOf, publishGrant } from "./tokens";

/** Last-used times are kept to this resolution, so a busy provisioning job causes one write per token per window. */
export const LAST_USED_RESOLUTION_MS = 5 * 60_000;
/** A signed token that D1 says is not live is refused from memory for this long before D1 is asked again. */
export const REFUSED_TOKEN_MEMORY_MS = 60_000;
/** The one key the legacy-token limiter counts under: it bounds storage lookups for unsigned tokens in total. */
const LEGACY_LOOKUP_KEY = "legacy-token-lookup";

/**
 * Per-isolate memory: when this isolate last recorded a token's use (it only throttles a bookkeeping write), and
 * which signed tokens D1 refused recently. A refusal is final (revoked, expired and deleted tokens never return),
 * so remembering one can never refuse a live token; nothing here ever answers "yes".
 */
const lastRecorded = new Map<string, number>();
const refused = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

interface AuthContext {
  db: ControlDb;
  kv: KVNamespace;
  now: number;
  waitUntil: (promise: Promise<unknown>) => void;
  /** The current signing key first, then the previous one during a key rotation. */
  signingKeys: SigningSecrets;
  /** Bounds the storage lookups that unsigned (pre-signing) tokens can cause. */
  legacyLimiter: RateLimit;
}

/**
 * Resolves a bearer token to its token id and the tenant's data database if it is live and belongs to `tenantId`;
 * null otherwise. `db` is the control database.
 *
 * A signed token is checked first against its MAC, which binds it to the tenant: a forged token, or a real one on
 * another tenant's URL, costs no KV or D1 access at all. A genuine one is looked up in KV (one read); on a miss D1
 * is the record and a live token is written back to KV, so a token issued a moment ago works everywhere at once,
 * also while the tenant's URL is flooded with forgeries (they never reach storage).
 *
 * An unsigned token from before signing existed is looked up in KV as before; its D1 fallback runs only within the
 * legacy limiter's budget (beyond it: 503 with Retry-After, which Entra retries).
 */
export async function authenticateToken(ctx: AuthContext, token: string, tenantId: string, integrationId: string) {
  const kind = tokenKind(token);
  if (kind === null) return null;
  if (kind === "signed" && !(await hasValidMac(token, tenantId, ctx.signingKeys))) return null;
  const tokenHash = await hashToken(token);
  let grant = await readGrant(ctx.kv, tokenHash);
  if (!grant) {
    if (kind === "signed" && ctx.now - (refused.get(tokenHash) ?? Number.NEGATIVE_INFINITY) < REFUSED_TOKEN_MEMORY_MS) {
      return null;
    }
    if (kind === "legacy" && !(await ctx.legacyLimiter.limit({ key: LEGACY_LOOKUP_KEY })).success) {
      throw new ScimError(503, "Too many lookups of unsigned tokens; retry shortly, or regenerate the token.", {
        "Retry-After": "10",
      });
    }
    const row = await findLiveTokenByHash(ctx.db, tokenHash, ctx.now);
    if (!row) {
      if (kind === "signed") remember(refused, tokenHash, ctx.now);
      return null;
    }
    grant = grantOf(row, row.database, row);
    // Written back for a minute only, and confirmed against D1 after writing, so a refill racing a revocation is
    // taken back at once (services/tokens.publishGrant).
    ctx.waitUntil(publishGrant(ctx, tokenHash, grant, ctx.now, REFILL_TTL_SECONDS));
  }
  // A token opens its own integration's URL only: another integration's (or the tenant's own, for a new
  // integration's token) refuses it as it would any token.
  if (grant.tenantId !== tenantId || grantIntegration(grant) !== integrationId || grant.expiresAt <= ctx.now) {
    return null;
  }
  noteUse(ctx, grant.tokenId);
  return {
    tokenId: grant.tokenId,
    database: grantDatabase(grant),
    paused: grant.paused === true,
    takesOverFrom: grant.takesOverFrom ?? null,
  };
}

function noteUse(ctx: AuthContext, tokenId: string) {
  const last = lastRecorded.get(tokenId);
  if (last !== undefined && ctx.now - last < LAST_USED_RESOLUTION_MS) return;
  remember(lastRecorded, tokenId, ctx.now);
  ctx.waitUntil(recordTokenUse(ctx.db, tokenId, ctx.now, LAST_USED_RESOLUTION_MS));
}

/** Bounded memory: cleared when full (forgetting only costs a repeated lookup or bookkeeping write). */
function remember(map: Map<string, number>, key: string, at: number) {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, at);
}
