import { auditInsert } from "../db/audit";
import { runBatch, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import { effectiveEnd, insertToken, listLiveTokens, revokeTokens, type TokenRow } from "../db/tokens";
import { deleteGrants, writeGrant } from "./grants";
import { generateToken, hashToken } from "./token";

export const MIN_TOKEN_TTL_SECONDS = 300;
export const MAX_TOKEN_TTL_SECONDS = 2 * 365 * 86_400;
/** Long enough for a planned rotation across one of Entra's 40-minute cycles, short enough to bound exposure. */
export const MAX_GRACE_SECONDS = 86_400;
/** Entra quarantines a job whose token expired; warn two weeks ahead so someone can rotate in time. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

export interface TokenStores {
  db: Database;
  kv: KVNamespace;
}

export interface IssuedToken {
  token: string;
  tokenId: string;
  expiresAt: number;
}

interface IssueOptions {
  tenantId: string;
  ttlSeconds: number;
  now: number;
  actor: string;
  /** Statements that must land together with the new token (e.g. creating the integration row). */
  with?: Statement[];
}

/** Issues a new token; the plaintext exists only in the return value. */
export async function issueToken(stores: TokenStores, opts: IssueOptions): Promise<IssuedToken> {
  const prepared = await prepareToken(stores.db, opts);
  await runBatch(stores.db, [...(opts.with ?? []), ...prepared.statements]);
  await writeGrant(stores.kv, prepared.hash, prepared.grant, opts.now);
  return prepared.issued;
}

/**
 * Replaces the tenant's live tokens with a new one. With `graceSeconds` 0 the old tokens are refused at once;
 * otherwise they keep working until the grace period ends (the cron then marks them revoked).
 */
export async function rotateToken(stores: TokenStores, opts: IssueOptions & { graceSeconds: number }) {
  const { db, kv } = stores;
  const previous = await listLiveTokens(db, opts.tenantId, opts.now);
  const until = opts.now + opts.graceSeconds * 1000;
  const prepared = await prepareToken(db, opts, {
    action: "token.regenerated",
    previousTokenIds: previous.map((t) => t.id),
    graceUntil: opts.graceSeconds > 0 ? new Date(until).toISOString() : null,
  });
  const statements = [...prepared.statements];
  if (previous.length > 0) statements.push(revokeTokens(db, ids(previous), until, opts.now, "regenerated"));
  await runBatch(db, statements);
  await writeGrant(kv, prepared.hash, prepared.grant, opts.now);
  await endGrants(kv, previous, until, opts.now);
  return prepared.issued;
}

/** Refuses every token of the tenant from now on (integration removed, option turned off, tenant deleted). */
export async function revokeAllTokens(
  stores: TokenStores,
  opts: { tenantId: string; now: number; actor: string; reason: string; with?: Statement[] },
) {
  const { db, kv } = stores;
  const live = await listLiveTokens(db, opts.tenantId, opts.now);
  const statements = [...(opts.with ?? [])];
  if (live.length > 0) {
    statements.push(
      revokeTokens(db, ids(live), opts.now, opts.now, opts.reason),
      auditInsert(db, {
        tenantId: opts.tenantId,
        at: opts.now,
        actor: opts.actor,
        action: "token.revoked",
        resourceType: "AccessToken",
        detail: { tokenIds: ids(live), reason: opts.reason },
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
  db: Database,
  opts: IssueOptions,
  audit: Record<string, unknown> & { action: string } = { action: "token.created" },
) {
  const token = generateToken();
  const hash = await hashToken(token);
  const tokenId = crypto.randomUUID();
  const expiresAt = opts.now + opts.ttlSeconds * 1000;
  const { action, ...detail } = audit;
  return {
    hash,
    issued: { token, tokenId, expiresAt },
    grant: { tenantId: opts.tenantId, tokenId, expiresAt },
    statements: [
      insertToken(db, {
        id: tokenId,
        tenantId: opts.tenantId,
        tokenHash: hash,
        status: "active",
        createdAt: opts.now,
        expiresAt,
      }),
      auditInsert(db, {
        tenantId: opts.tenantId,
        at: opts.now,
        actor: opts.actor,
        action,
        resourceType: "AccessToken",
        resourceId: tokenId,
        detail: { expiresAt: new Date(expiresAt).toISOString(), ...detail },
      }),
    ] as Statement[],
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
