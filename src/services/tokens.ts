import { auditRow } from "../db/audit";
import { runBatch, type Statement } from "../db/batch";
import { effectiveEnd, insertToken, listLiveTokens, revokeTokens, type TokenRow } from "../db/tokens";
import { deleteGrants, writeGrant } from "../tokens/grants";
import { generateToken, hashToken } from "../tokens/token";
import { forTenant, type OperatorContext } from "./context";

/** An operator context that can issue tokens: it holds the current signing key. */
export type IssuingContext = OperatorContext & { signingKey: string };

/**
 * TOKEN_SIGNING_KEYS as configured: comma-separated, the current key first and, while rotating the key, the previous
 * one after it (tokens signed with either verify). A deployment without a key is a configuration error.
 */
export function tokenSigningKeys(configured: string | undefined): string[] {
  const keys = (configured ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  if (keys.length === 0) throw new Error("TOKEN_SIGNING_KEYS is not set");
  return keys;
}

export const MIN_TOKEN_TTL_SECONDS = 300;
export const MAX_TOKEN_TTL_SECONDS = 2 * 365 * 86_400;
/** Long enough for a planned rotation across one of Entra's 40-minute cycles, short enough to bound exposure. */
export const MAX_GRACE_SECONDS = 86_400;
/** Entra quarantines a job whose token expired; warn two weeks ahead so someone can rotate in time. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

export interface IssuedToken {
  token: string;
  tokenId: string;
  expiresAt: number;
}

/**
 * Issues a new token; the plaintext exists only in the return value. `alongside` are statements of the calling use
 * case that must land in the same batch (creating the integration row).
 */
export async function issueToken(ctx: IssuingContext, tenantId: string, ttlSeconds: number, alongside: Statement[]) {
  const prepared = await prepareToken(ctx, tenantId, ttlSeconds);
  await runBatch(ctx.db, [...alongside, ...prepared.statements]);
  await writeGrant(ctx.kv, prepared.hash, prepared.grant, ctx.now);
  return prepared.issued;
}

/**
 * Replaces the tenant's live tokens with a new one. With `graceSeconds` 0 the old tokens are refused at once;
 * otherwise they keep working until the grace period ends (housekeeping then marks them revoked).
 */
export async function rotateToken(ctx: IssuingContext, tenantId: string, ttlSeconds: number, graceSeconds: number) {
  const { db, kv, now } = ctx;
  const previous = await listLiveTokens(db, tenantId, now);
  const until = now + graceSeconds * 1000;
  const prepared = await prepareToken(ctx, tenantId, ttlSeconds, {
    action: "token.regenerated",
    previousTokenIds: ids(previous),
    graceUntil: graceSeconds > 0 ? new Date(until).toISOString() : null,
  });
  const statements = [...prepared.statements];
  if (previous.length > 0) statements.push(revokeTokens(db, ids(previous), until, now, "regenerated"));
  await runBatch(db, statements);
  await writeGrant(kv, prepared.hash, prepared.grant, now);
  await endGrants(kv, previous, until, now);
  return prepared.issued;
}

/**
 * Refuses every token of the tenant from now on (integration removed, option turned off), in the same batch as the
 * calling use case's own statements. D1 first, then KV: a failed KV delete leaves an entry that the D1 record no
 * longer backs, which housekeeping's sweep deletes again.
 */
export async function revokeAllTokens(ctx: OperatorContext, tenantId: string, reason: string, alongside: Statement[]) {
  const { db, kv, now } = ctx;
  const live = await listLiveTokens(db, tenantId, now);
  const statements = [...alongside];
  if (live.length > 0) {
    statements.push(
      revokeTokens(db, ids(live), now, now, reason),
      auditRow(forTenant(ctx, tenantId), {
        action: "token.revoked",
        resourceType: "AccessToken",
        detail: { tokenIds: ids(live), reason },
      }),
    );
  }
  if (statements.length > 0) await runBatch(db, statements);
  await deleteGrants(
    kv,
    live.map((t) => t.tokenHash),
  );
  return live.length;
}

async function prepareToken(
  ctx: IssuingContext,
  tenantId: string,
  ttlSeconds: number,
  audit: Record<string, unknown> & { action: string } = { action: "token.created" },
) {
  const token = await generateToken(tenantId, ctx.signingKey);
  const hash = await hashToken(token);
  const tokenId = crypto.randomUUID();
  const expiresAt = ctx.now + ttlSeconds * 1000;
  const { action, ...detail } = audit;
  const statements: Statement[] = [
    insertToken(ctx.db, { id: tokenId, tenantId, tokenHash: hash, status: "active", createdAt: ctx.now, expiresAt }),
    auditRow(forTenant(ctx, tenantId), {
      action,
      resourceType: "AccessToken",
      resourceId: tokenId,
      detail: { expiresAt: new Date(expiresAt).toISOString(), ...detail },
    }),
  ];
  return {
    hash,
    issued: { token, tokenId, expiresAt } satisfies IssuedToken,
    grant: { tenantId, tokenId, expiresAt },
    statements,
  };
}

/** Old tokens leave KV now (no grace) or get their shortened end written so the fast path refuses them on time. */
async function endGrants(kv: KVNamespace, previous: TokenRow[], until: number, now: number) {
  if (until <= now) {
    await deleteGrants(
      kv,
      previous.map((t) => t.tokenHash),
    );
    return;
  }
  await Promise.all(
    previous.map((t) =>
      writeGrant(
        kv,
        t.tokenHash,
        {
          tenantId: t.tenantId,
          tokenId: t.id,
          expiresAt: effectiveEnd({ ...t, revokedAt: Math.min(t.revokedAt ?? until, until) }),
        },
        now,
      ),
    ),
  );
}

const ids = (rows: TokenRow[]) => rows.map((t) => t.id);

/** A new token's lifetime when the request names none: the configured default when it is valid, else one year. */
export function defaultTokenTtl(configured: string | undefined) {
  const seconds = Number(configured);
  return Number.isInteger(seconds) && seconds >= MIN_TOKEN_TTL_SECONDS && seconds <= MAX_TOKEN_TTL_SECONDS
    ? seconds
    : 365 * 86_400;
}
