import type { Database } from "../db/client";
import { effectiveEnd, findLiveTokenByHash, recordTokenUse } from "../db/tokens";
import { REFILL_TTL_SECONDS, readGrant, writeGrant } from "../tokens/grants";
import { hashToken, looksLikeToken } from "../tokens/token";

/** Last-used times are kept to this resolution, so a busy provisioning job causes one write per token per window. */
export const LAST_USED_RESOLUTION_MS = 5 * 60_000;

/**
 * Per-isolate memory of when this isolate last recorded a token's use. It only throttles a bookkeeping write and
 * never answers an authentication question, so it cannot keep a revoked token working.
 */
const lastRecorded = new Map<string, number>();

interface AuthContext {
  db: Database;
  kv: KVNamespace;
  now: number;
  waitUntil: (promise: Promise<unknown>) => void;
}

/**
 * Resolves a bearer token to its token id if it is live and belongs to `tenantId`; null otherwise. KV first (one
 * read); on a miss D1 is the record, and a live token is written back to KV so the next request stays on the
 * fast path. A token issued a moment ago therefore works everywhere at once, before KV has propagated.
 */
export async function authenticateToken(ctx: AuthContext, token: string, tenantId: string) {
  if (!looksLikeToken(token)) return null;
  const tokenHash = await hashToken(token);
  let grant = await readGrant(ctx.kv, tokenHash);
  if (!grant) {
    const row = await findLiveTokenByHash(ctx.db, tokenHash, ctx.now);
    if (!row) return null;
    grant = { tenantId: row.tenantId, tokenId: row.id, expiresAt: effectiveEnd(row) };
    ctx.waitUntil(writeGrant(ctx.kv, tokenHash, grant, ctx.now, REFILL_TTL_SECONDS));
  }
  if (grant.tenantId !== tenantId || grant.expiresAt <= ctx.now) return null;
  noteUse(ctx, grant.tokenId);
  return grant.tokenId;
}

function noteUse(ctx: AuthContext, tokenId: string) {
  const last = lastRecorded.get(tokenId);
  if (last !== undefined && ctx.now - last < LAST_USED_RESOLUTION_MS) return;
  lastRecorded.set(tokenId, ctx.now);
  ctx.waitUntil(recordTokenUse(ctx.db, tokenId, ctx.now, LAST_USED_RESOLUTION_MS));
}
